// The peers of hourbank-bench: RocksDB's db_bench, PostgreSQL 15, hledger and ledger-cli, run
// as separate programs. A peer that is not installed is reported as skipped, never estimated.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "tools/bench/bench.h"

namespace hourbank::bench {

bool Executable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string FindProgram(const std::vector<std::string>& candidates) {
  for (const std::string& c : candidates) {
    if (c.find('/') != std::string::npos) {
      if (Executable(c)) return c;
      continue;
    }
    for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
      const std::string p = std::string(dir) + "/" + c;
      if (Executable(p)) return p;
    }
  }
  return "";
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_path,
                         const std::string& stderr_path) {
  ProcessResult r;
  int out[2];
  if (pipe(out) != 0) return r;
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    const int in = open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
    if (in >= 0) dup2(in, STDIN_FILENO);
    const int err = open(stderr_path.empty() ? "/dev/null" : stderr_path.c_str(),
                         O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  char buf[65536];
  for (;;) {
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    r.out.append(buf, size_t(n));
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.seconds = SecondsSince(t0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// ---- db_bench

namespace {

// "fillseq      :       1.234 micros/op 810372 ops/sec; ..." -> ops/sec
double OpsPerSec(const std::string& out, const std::string& name) {
  std::smatch m;
  const std::regex re(name + R"(\s*:\s*[0-9.]+ micros/op\s+([0-9]+) ops/sec)");
  if (std::regex_search(out, m, re)) return std::stod(m[1]);
  return 0;
}

}  // namespace

PeerFigure DbBench(const std::string& work_dir, uint64_t num, uint32_t value_size) {
  PeerFigure f;
  const std::string exe = FindProgram({"rocksdb_db_bench", "db_bench"});
  if (exe.empty()) {
    f.skipped = "skipped (not installed: rocksdb-tools)";
    return f;
  }
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  std::filesystem::create_directories(work_dir, ec);
  const std::vector<std::string> common = {
      exe,
      "--db=" + work_dir,
      fmt::format("--num={}", num),
      "--key_size=8",
      fmt::format("--value_size={}", value_size),
      "--compression_type=lz4",  // as the ledger's events column family (ledger/log.cc)
      "--threads=1",
      "--statistics=0"};
  auto fill = common;
  fill.insert(fill.end(), {"--benchmarks=fillseq", "--batch_size=1000", "--sync=1"});
  ProcessResult a = RunProcess(fill);
  auto read = common;
  read.insert(read.end(), {"--benchmarks=readseq", "--use_existing_db=1"});
  ProcessResult b = RunProcess(read);
  f.value = OpsPerSec(a.out, "fillseq");
  f.value2 = OpsPerSec(b.out, "readseq");
  f.ok = a.exit_code == 0 && b.exit_code == 0 && f.value > 0 && f.value2 > 0;
  if (!f.ok) f.skipped = fmt::format("db_bench failed (exit {} / {})", a.exit_code, b.exit_code);
  std::filesystem::remove_all(work_dir, ec);
  return f;
}

// ---- PostgreSQL

namespace {

struct PgUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

std::optional<PgUser> FindPgUser() {
  if (geteuid() != 0) return PgUser{geteuid(), getegid(), ""};
  if (passwd* p = getpwnam("postgres")) return PgUser{p->pw_uid, p->pw_gid, "postgres"};
  return std::nullopt;
}

// Runs argv as the postgres user (initdb and postgres refuse root).
ProcessResult RunAs(const PgUser& u, std::vector<std::string> argv,
                    const std::string& stdin_path = "", const std::string& stderr_path = "") {
  if (!u.name.empty()) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", u.name, "--"});
  return RunProcess(argv, stdin_path, stderr_path);
}

// A throwaway PostgreSQL 15 server in work_dir, or why it could not be started.
struct PgServer {
  PgUser user;
  std::string bin = "/usr/lib/postgresql/15/bin", data, log;
  std::vector<std::string> conn;  // psql argv prefix connecting to it
  std::string skipped;
};

PgServer StartPostgres(const std::string& work_dir) {
  PgServer pg;
  if (!Executable(pg.bin + "/initdb") || !Executable(pg.bin + "/pg_ctl") ||
      FindProgram({"psql"}).empty()) {
    pg.skipped = "skipped (not installed: postgresql-15)";
    return pg;
  }
  auto user = FindPgUser();
  if (!user) {
    pg.skipped = "skipped (no postgres user to run the server as)";
    return pg;
  }
  pg.user = *user;
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  std::filesystem::create_directories(work_dir, ec);
  // mkdtemp makes the run's directory 0700: the server's user must be able to enter it.
  const std::string parent = std::filesystem::path(work_dir).parent_path().string();
  if (!parent.empty()) chmod(parent.c_str(), 0711);
  if (chown(work_dir.c_str(), user->uid, user->gid) != 0) {
    pg.skipped = "skipped (cannot chown the work dir)";
    return pg;
  }
  pg.data = work_dir + "/data", pg.log = work_dir + "/server.log";
  const int port = 20000 + int(getpid() % 20000);
  ProcessResult init = RunAs(pg.user, {pg.bin + "/initdb", "-D", pg.data, "-U", "bench",
                                       "--auth=trust", "-E", "UTF8", "--no-sync"});
  if (init.exit_code != 0) {
    pg.skipped = "initdb failed";
    return pg;
  }
  ProcessResult start = RunAs(
      pg.user,
      {pg.bin + "/pg_ctl", "-D", pg.data, "-l", pg.log, "-w", "-o",
       fmt::format("-p {} -k {} -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c fsync=on",
                   port, work_dir),
       "start"});
  if (start.exit_code != 0) {
    pg.skipped = "pg_ctl start failed (see " + pg.log + ")";
    return pg;
  }
  pg.conn = {FindProgram({"psql"}), "-X", "-q",    "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
             std::to_string(port),  "-U", "bench", "-d", "postgres"};
  return pg;
}

// One COPY per 1000 events: each is its own transaction, committed synchronously.
void WriteCopyScript(const std::string& script, const std::vector<FlatEvent>& events) {
  std::ofstream out(script);
  for (size_t i = 0; i < events.size(); i += 1000) {
    out << "COPY events (stream, version, body) FROM STDIN;\n";
    for (size_t k = i; k < std::min(events.size(), i + 1000); ++k)
      out << events[k].stream << '\t' << events[k].version << '\t' << events[k].json << '\n';
    out << "\\.\n";
  }
}

// The peer's fold: minutes per stream from `stream\ttype\tminutes\tcount` rows. Returns rows.
size_t FoldMinutes(const std::string& text) {
  std::map<std::string, int64_t, std::less<>> minutes;
  size_t rows = 0;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + at, nl - at);
    const size_t t1 = line.find('\t');
    if (t1 != std::string_view::npos) {
      const size_t t2 = line.find('\t', t1 + 1), t3 = line.find('\t', t2 + 1);
      if (line.substr(t1 + 1, t2 - t1 - 1) == "work_logged" && t3 != std::string_view::npos)
        minutes[std::string(line.substr(0, t1))] +=
            std::atoll(std::string(line.substr(t2 + 1, t3 - t2 - 1)).c_str());
      ++rows;
    }
    at = nl + 1;
  }
  return rows;
}

}  // namespace

PeerFigure Postgres(const std::string& work_dir, const std::vector<FlatEvent>& events) {
  PeerFigure f;
  PgServer pg = StartPostgres(work_dir);
  if (!pg.skipped.empty()) {
    f.skipped = pg.skipped;
    return f;
  }
  auto sql = [&](const std::string& text) {
    const std::string path = work_dir + "/q.sql";
    std::ofstream(path) << text;
    auto argv = pg.conn;
    argv.insert(argv.end(), {"-At", "-f", path});
    return RunProcess(argv);
  };
  sql("CREATE TABLE events (seq bigserial PRIMARY KEY, stream text NOT NULL, version int NOT NULL, "
      "body jsonb NOT NULL,"
      " UNIQUE (stream, version));");
  const std::string script = work_dir + "/load.sql";
  WriteCopyScript(script, events);
  auto load_argv = pg.conn;
  load_argv.insert(load_argv.end(), {"-f", script});
  ProcessResult load = RunProcess(load_argv, "", work_dir + "/load.err");
  // Rebuild balances: read the table in seq order and fold minutes per stream.
  auto read_argv = pg.conn;
  read_argv.insert(
      read_argv.end(),
      {"-At", "-F", "\t", "-c",
       "SELECT stream, body->>'type', body->>'minutes', body->>'count' FROM events ORDER BY seq"});
  ProcessResult read = RunProcess(read_argv);
  const auto t_fold = std::chrono::steady_clock::now();
  const size_t rows = FoldMinutes(read.out);
  const double fold_seconds = SecondsSince(t_fold);
  RunAs(pg.user, {pg.bin + "/pg_ctl", "-D", pg.data, "-m", "fast", "-w", "stop"});
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  if (load.exit_code != 0 || read.exit_code != 0 || rows != events.size()) {
    f.skipped = fmt::format("postgres load/read failed (exit {} / {}, {} rows of {})",
                            load.exit_code, read.exit_code, rows, events.size());
    return f;
  }
  f.ok = true;
  f.value = double(events.size()) / load.seconds;
  f.value2 = read.seconds + fold_seconds;
  return f;
}

// ---- hledger / ledger-cli

void WriteJournal(const std::string& path, const std::vector<FlatEvent>& events) {
  // One transaction per work entry: time (minutes, commodity MIN) or items (ITEMS) moved from
  // the client's contract to its work account by kind.
  std::ofstream out(path);
  for (const FlatEvent& e : events) {
    if (!e.work) continue;
    const time_t secs = time_t(e.at_us / 1000000);
    tm t{};
    gmtime_r(&secs, &t);
    const bool hours = e.count == 0;
    out << fmt::format("{:04}-{:02}-{:02} {} {}\n    work:{}:{}  {} {}\n    contract:{}\n\n",
                       t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, e.stream, e.kind, e.stream,
                       e.kind, hours ? e.minutes : e.count, hours ? "MIN" : "ITEMS", e.stream);
  }
}

PeerFigure JournalBal(const std::string& program, const std::string& journal_path) {
  PeerFigure f;
  const std::string exe = FindProgram({program});
  if (exe.empty()) {
    f.skipped = "skipped (not installed)";
    return f;
  }
  ProcessResult r = RunProcess({exe, "-f", journal_path, "bal"});
  if (r.exit_code != 0 || r.out.empty()) {
    f.skipped = fmt::format("{} bal failed (exit {})", program, r.exit_code);
    return f;
  }
  f.ok = true;
  f.value = r.seconds;
  return f;
}

}  // namespace hourbank::bench
