// Corruption and disk-full faults on real ledger directories (DESIGN.md §6).
//
// Corruption: a ledger is written and CLOSED, then bytes of its WAL tail or of its SST files
// are flipped on disk; the ledger must then either refuse to open (or to read) with a clear
// error, or serve exactly the events that were written — never different bytes, and never a
// Verify() that passes over wrong data.
// Disk full: a child process appends to a ledger on a small tmpfs (or, when mounting is not
// allowed, under RLIMIT_FSIZE with SIGXFSZ ignored) until an append fails; the failure must be
// a clear kIo error, every acknowledged append must be there after reopening with space back,
// and appending must work again.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ledger/log.h"

namespace {

using namespace hourbank;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/hourbank-fault-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ledger::EventDraft Work(uint64_t i, size_t note_bytes = 40) {
  ledger::EventDraft d;
  auto r = d.root();
  r.setEffectiveAtUs(1759276800000000 + static_cast<int64_t>(i));
  r.setActor("fault");
  auto w = r.getBody().initWorkLogged();
  w.setKind("support");
  w.setTask("T" + std::to_string(i));
  w.setStaff("anna");
  w.setMinutes(15 + static_cast<int64_t>(i % 100));
  w.setNote(std::string(note_bytes, static_cast<char>('a' + i % 26)));
  return d;
}

Result<ledger::AppendResult> AppendOne(ledger::Log& log, uint64_t i, size_t note_bytes = 40) {
  ledger::AppendRequest req;
  req.client_id = "c" + std::to_string(i % 3);
  req.idempotency_key = "k" + std::to_string(i);
  req.events.push_back(Work(i, note_bytes));
  return log.Append(std::move(req));
}

std::unique_ptr<ledger::Log> MustOpen(const std::string& dir, bool create = false) {
  ledger::Options o;
  o.create_if_missing = create;
  auto log = ledger::Log::Open(dir, o);
  if (!log.ok()) FAIL("open " << dir << ": " << log.error().message);
  return std::move(log).value();
}

// Writes `count` events (closing the log) and returns the stored bytes by seq.
std::map<uint64_t, std::string> WriteLedger(const std::string& dir, uint64_t count) {
  std::map<uint64_t, std::string> stored;
  auto log = MustOpen(dir, true);
  for (uint64_t i = 0; i < count; ++i) REQUIRE(AppendOne(*log, i).ok());
  for (uint64_t seq = 1; seq <= log->head_seq(); ++seq) stored[seq] = log->Get(seq).value();
  return stored;
}

std::vector<fs::path> FilesEnding(const std::string& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().string().ends_with(suffix)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void FlipByte(const fs::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  REQUIRE(f.good());
}

struct Outcome {
  bool open_failed = false;
  bool read_failed = false;   // some Get or Verify reported an error
  bool verify_ok = false;
  uint64_t head = 0;
};

// Opens a damaged copy and checks that it never serves bytes other than `stored`.
Outcome CheckDamaged(const std::string& dir, const std::map<uint64_t, std::string>& stored) {
  Outcome out;
  auto opened = ledger::Log::Open(dir, ledger::Options{});
  if (!opened.ok()) {
    out.open_failed = true;
    INFO("open error: " << opened.error().message);
    CHECK(!opened.error().message.empty());
    CHECK((opened.error().code == Code::kCorruption || opened.error().code == Code::kIo));
    return out;
  }
  ledger::Log& log = *opened.value();
  out.head = log.head_seq();
  CHECK(out.head <= stored.size());
  for (uint64_t seq = 1; seq <= out.head; ++seq) {
    auto got = log.Get(seq);
    if (!got.ok()) {
      out.read_failed = true;
      CHECK(!got.error().message.empty());
      continue;
    }
    // The one thing that must never happen: different bytes served as event `seq`.
    REQUIRE(got.value() == stored.at(seq));
  }
  auto report = log.Verify();
  if (!report.ok()) {
    out.read_failed = true;
    CHECK(!report.error().message.empty());
  } else {
    out.verify_ok = report.value().ok;
    if (!out.verify_ok) CHECK(!report.value().problem.empty());
  }
  // A failed read means damage: Verify must not pass over it.
  if (out.read_failed) CHECK(!out.verify_ok);
  return out;
}

TEST_CASE("a flipped byte in the WAL tail of a closed ledger is refused or cut off, never served",
          "[reliability][corruption]") {
  TempDir tmp;
  const std::string pristine = tmp.path() + "/pristine";
  const auto stored = WriteLedger(pristine, 60);
  const auto wals = FilesEnding(pristine, ".log");
  REQUIRE(!wals.empty());
  const fs::path wal = wals.back();
  const uint64_t size = fs::file_size(wal);
  REQUIRE(size > 512);
  std::mt19937_64 rng(42);
  uint32_t refused = 0, recovered = 0, intact = 0;
  for (int trial = 0; trial < 24; ++trial) {
    const std::string copy = tmp.path() + "/copy" + std::to_string(trial);
    fs::copy(pristine, copy, fs::copy_options::recursive);
    // The tail: the last 2 KiB, where a torn final write would be.
    const uint64_t offset = size - 1 - rng() % std::min<uint64_t>(2048, size);
    FlipByte(fs::path(copy) / wal.filename(), offset);
    INFO("trial " << trial << ": WAL byte " << offset << " of " << size);
    const Outcome o = CheckDamaged(copy, stored);
    if (o.open_failed || o.read_failed) ++refused;
    else if (o.head < stored.size()) ++recovered;
    else ++intact;
    if (!o.open_failed) CHECK((o.verify_ok || o.read_failed));
    fs::remove_all(copy);
  }
  // With paranoid checks a damaged WAL record is an error at open (kAbsoluteConsistency) or a
  // point-in-time recovery to the records before it; either way nothing wrong was served.
  CHECK(refused + recovered + intact == 24);
  UNSCOPED_INFO("WAL tail flips: " << refused << " refused, " << recovered << " recovered to a prefix, "
                                   << intact << " unaffected");
}

TEST_CASE("a flipped byte in an SST file of a closed ledger is reported, never served as an event",
          "[reliability][corruption]") {
  TempDir tmp;
  const std::string pristine = tmp.path() + "/pristine";
  const auto stored = WriteLedger(pristine, 200);
  // Reopening replays the WAL into SST files (RocksDB flushes after recovery).
  { auto log = MustOpen(pristine); REQUIRE(log->head_seq() == 200); }
  const auto ssts = FilesEnding(pristine, ".sst");
  REQUIRE(!ssts.empty());
  std::mt19937_64 rng(7);
  uint32_t trials = 0, detected = 0;
  for (const fs::path& sst : ssts) {
    const uint64_t size = fs::file_size(sst);
    for (int k = 0; k < 6; ++k) {
      const std::string copy = tmp.path() + "/copy";
      fs::remove_all(copy);
      fs::copy(pristine, copy, fs::copy_options::recursive);
      const uint64_t offset = rng() % size;
      FlipByte(fs::path(copy) / sst.filename(), offset);
      INFO(sst.filename().string() << " byte " << offset << " of " << size);
      const Outcome o = CheckDamaged(copy, stored);
      ++trials;
      if (o.open_failed || o.read_failed || !o.verify_ok) ++detected;
      else CHECK(o.head == stored.size());  // undetected means the flip hit bytes no read uses
    }
  }
  UNSCOPED_INFO("SST flips: " << detected << " of " << trials << " detected");
  CHECK(trials > 0);
}

// ---- disk full

// Appends in a child until an append fails; writes "acked N" and the error to `report_fd`.
[[noreturn]] void FillChild(const std::string& dir, int report_fd, bool limit_file_size) {
  if (limit_file_size) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{2u << 20, 2u << 20};
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  std::string out;
  {
    ledger::Options o;
    auto log = ledger::Log::Open(dir, o);
    if (!log.ok()) {
      out = "acked 0\nopen " + log.error().message + "\n";
    } else {
      uint64_t acked = 0;
      std::string error;
      int code = 0;
      for (uint64_t i = 1000; i < 1000 + 100000; ++i) {
        auto r = AppendOne(*log.value(), i, 8000);
        if (!r.ok()) {
          error = r.error().message;
          code = static_cast<int>(r.error().code);
          // A second attempt must fail the same way, not half-write.
          auto again = AppendOne(*log.value(), i, 8000);
          if (again.ok()) error += " [BUT A RETRY SUCCEEDED]";
          break;
        }
        acked = i + 1 - 1000;
      }
      out = "acked " + std::to_string(acked) + "\ncode " + std::to_string(code) + "\nerror " + error + "\n";
    }
  }
  (void)!::write(report_fd, out.data(), out.size());
  std::_Exit(0);
}

TEST_CASE("disk full: the append fails with a clear error, nothing acknowledged is lost, and the "
          "ledger works again with space back",
          "[reliability][diskfull]") {
  TempDir tmp;
  const std::string mnt = tmp.path() + "/mnt";
  fs::create_directory(mnt);
  const bool mounted = ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=12m") == 0;
  const std::string dir = mnt + "/ledger";
  std::string filler = mnt + "/filler";
  {
    auto log = MustOpen(dir, true);
    for (uint64_t i = 0; i < 10; ++i) REQUIRE(AppendOne(*log, i).ok());
  }
  if (mounted) {
    // Leave about 1.5 MiB free, so the ledger runs out of space mid-stream.
    const uint64_t free_bytes = fs::space(mnt).available;
    REQUIRE(free_bytes > (2u << 20));
    std::ofstream f(filler, std::ios::binary);
    const std::string chunk(1 << 16, 'x');
    for (uint64_t left = free_bytes - (3u << 19); left > 0;) {
      const uint64_t n = std::min<uint64_t>(left, chunk.size());
      f.write(chunk.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
  }
  UNSCOPED_INFO((mounted ? "disk full via a 12 MiB tmpfs" : "disk full via RLIMIT_FSIZE (mount not allowed)"));
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    FillChild(dir, fds[1], !mounted);
  }
  ::close(fds[1]);
  std::string report;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  INFO("child report: " << report);
  REQUIRE(WIFEXITED(status));
  uint64_t acked = 0;
  int code = 0;
  char error[600] = {0};
  REQUIRE(std::sscanf(report.c_str(), "acked %lu\ncode %d\nerror %599[^\n]", &acked, &code, error) >= 2);
  CHECK(acked > 10);                                  // it did run for a while
  CHECK(code == static_cast<int>(Code::kIo));         // and then failed as an I/O error
  CHECK(std::string(error).size() > 10);              // with a message
  CHECK(std::string(error).find("RETRY SUCCEEDED") == std::string::npos);

  // Space back.
  if (mounted) fs::remove(filler);
  {
    auto log = MustOpen(dir);
    CHECK(log->head_seq() >= 10 + acked);
    auto v = log->Verify();
    REQUIRE(v.ok());
    CHECK(v.value().ok);
    for (uint64_t i = 1000; i < 1000 + acked; ++i) {
      auto rec = log->LookupKey("k" + std::to_string(i));
      REQUIRE(rec.ok());
      CHECK(rec.value().has_value());
    }
    // Works again.
    auto r = AppendOne(*log, 999999);
    REQUIRE(r.ok());
    CHECK(log->Verify().value().ok);
  }
  if (mounted) ::umount2(mnt.c_str(), MNT_DETACH);
}

}  // namespace
