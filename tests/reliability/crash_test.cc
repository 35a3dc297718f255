// Crash test: kill -9 a process that appends with sync, at random moments, and check that the
// ledger kept every promise of DESIGN.md §6 each time.
//
// How: this one executable is both the parent and the child.
//   crash_test [--rounds N] [--seconds S] [--seed X] [--dir D] [--keep]
// spawns `crash_test --child DIR ROUND SEED` with its stdout on a pipe. The child opens the
// ledger (creating it on round 0), defines a plan, registers three clients with contracts,
// then loops: logs work (one event per append) and closes months (one append of several
// events: closing entries + PeriodClosed, then a payment), each with a unique idempotency key,
// and writes a checkpoint of its figures now and then. After every acknowledged append it
// writes a line to the pipe:
//   ack_line  := "A" SP first_seq SP count SP stream SP key LF
//   ckpt_line := "C" SP seq LF          (a checkpoint holding the figures at seq is durable)
//   pre_line  := "P" SP what LF         (about to append a close batch / write a checkpoint)
// The parent kills the child with SIGKILL at a random moment (a random delay after spawn, a
// random number of acks plus jitter, or just after a "P" line so the kill lands inside a close
// batch or a checkpoint write), reopens the ledger and checks:
//   1. Verify() is ok and covers head_seq events (chain, streams and keys indexes agree);
//   2. every acknowledged append is there: seqs first..first+count-1 exist, carry the stream and
//      the key, and the keys index maps the key to exactly that range;
//   3. nothing is half-written: the events carrying one key are contiguous and as many as the
//      key's record says (a close batch is all or nothing), and an acknowledged key is never
//      missing;
//   4. stream versions are contiguous: each stream's events read back 1..version, in seq
//      order, all naming the stream, and the versions sum to head_seq;
//   5. the client states folded twice (once by a global Scan, once stream by stream) give
//      identical figures, and a stored checkpoint equals the figures folded up to its seq.
// Rounds are bounded by --rounds AND --seconds, whichever comes first; the ledger directory is
// recreated every 50 rounds so a round's checks stay cheap.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "projections/decide.h"
#include "projections/plan.h"
#include "projections/state.h"
#include "projections/units.h"

namespace {

using namespace hourbank;
using namespace hourbank::projections;

constexpr const char* kPlanToml = R"(
[[plan]]
id = "crash-carry"
name = "Crash test plan"
currency = "RUB"
fee_minor = 1000000
included_minutes = 600
rollover = "carry"
reserve_cap_minutes = 300
overage_rate_minor = 150000

[[plan.kinds]]
id = "support"
unit = "hour"
)";

constexpr const char* kClients[] = {"acme", "globex", "initech"};
constexpr uint32_t kFirstMonth = 202501;
constexpr int64_t kNowUs = 4102444800LL * 1000000;  // 2100-01-01T00:00Z: every month has ended
constexpr const char* kCheckpointName = "crash-figures";
constexpr uint32_t kChildAppendsMax = 100000;  // the child's loop bound (it is killed long before)
constexpr uint32_t kRoundsPerLedger = 50;      // then the directory is recreated

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "crash_test: %s\n", what.c_str());
  std::exit(2);
}

std::string TextOf(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// The figures the test compares: per client, what a balance or an invoice would show.
std::string Figures(const std::map<std::string, ClientState>& clients) {
  std::ostringstream out;
  for (const auto& [id, st] : clients) {
    out << id << " v" << st.version() << " closed " << st.last_closed_month() << " paid "
        << st.paid_minor() << " invoiced " << st.invoiced_closed_minor() << " problems "
        << st.problems().size() << "\n";
    if (!st.has_contract()) continue;
    const uint32_t last = st.FirstOpenMonth();
    for (uint32_t m = st.first_month(); m != 0 && m <= last; m = NextMonth(m)) {
      const MonthEval e = st.Evaluate(m);
      out << "  " << m << " used " << e.used_minutes << " allowance " << e.allowance_used_minutes
          << " reserve " << e.reserve_start_minutes << "->" << e.reserve_end_minutes << " overage "
          << e.overage_minutes << " carried " << e.carried_minutes << " expired "
          << e.expired_minutes() << " total " << e.invoice.total_minor << "\n";
    }
  }
  return out.str();
}

// Folds every client stream (not $-streams) up to `to_seq` (0 = head) with one global Scan.
Result<std::map<std::string, ClientState>> FoldByScan(const ledger::Log& log, uint64_t to_seq) {
  std::map<std::string, ClientState> clients;
  Status s = log.Scan(1, to_seq, [&](const ledger::EventView& v) {
    const std::string id = TextOf(v.event.getClientId());
    if (id.empty() || id[0] == '$') return true;
    auto it = clients.find(id);
    if (it == clients.end()) {
      it = clients.emplace(id, ClientState()).first;
      it->second.set_id(id);
    }
    it->second.Apply(v.seq, v.event);
    return true;
  });
  if (!s.ok()) return s.error();
  return clients;
}

// The same fold by another path: stream by stream.
Result<std::map<std::string, ClientState>> FoldByStreams(const ledger::Log& log) {
  std::map<std::string, ClientState> clients;
  auto ids = log.ListStreams();
  if (!ids.ok()) return ids.error();
  for (const std::string& id : ids.value()) {
    if (id.empty() || id[0] == '$') continue;
    ClientState& st = clients.emplace(id, ClientState()).first->second;
    st.set_id(id);
    Status s = log.ReadStream(id, 1, 0, [&](const ledger::EventView& v) {
      st.Apply(v.seq, v.event);
      return true;
    });
    if (!s.ok()) return s.error();
  }
  return clients;
}

// ---------------------------------------------------------------------------------------
// The child.

class Child {
 public:
  Child(std::unique_ptr<ledger::Log> log, uint32_t round, uint64_t seed)
      : log_(std::move(log)), round_(round), rng_(seed) {}

  void Run() {
    Load();
    if (catalog_.Find("crash-carry") == nullptr) {
      auto plans = ParsePlans(kPlanToml, "crash.toml");
      if (!plans.ok()) Die("plan: " + plans.error().message);
      Commit(kCatalogStream, DecidePlanDefine(catalog_, plans.value(), kNowUs), "plan");
    }
    for (const char* id : kClients) {
      ClientState& st = state(id);
      if (!st.registered())
        Commit(
            id,
            DecideRegister(st, {id, std::string("Client ") + id, "RUB", "Europe/Moscow"}, kNowUs),
            std::string("reg-") + id);
      if (!state(id).has_contract()) {
        StartContract c;
        c.plan_id = "crash-carry";
        c.from_month = kFirstMonth;
        Commit(id, DecideContractStart(state(id), catalog_, c, kNowUs), std::string("start-") + id);
      }
    }
    for (uint32_t i = 0; i < kChildAppendsMax; ++i) {
      const std::string id = kClients[rng_() % 3];
      ClientState& st = state(id);
      const uint32_t month = st.FirstOpenMonth();
      const uint32_t dice = rng_() % 100;
      if (st.outstanding_minor() > 0) {
        // A kill between a close and its payment leaves a debt that blocks work: settle it.
        Commit(id, DecidePay(st, st.outstanding_minor(), "crash", kNowUs, kNowUs), Key("pay"));
      } else if (dice < 12 && month < 209912) {
        Report("P close");
        Commit(id, DecideClose(st, month, kNowUs), Key("close"));
        const int64_t total = state(id).InvoiceFor(month).total_minor;
        if (total > 0) Commit(id, DecidePay(state(id), total, "crash", kNowUs, kNowUs), Key("pay"));
      } else if (dice < 16) {
        Report("P ckpt");
        const uint64_t head = log_->head_seq();
        const std::string bytes = std::to_string(head) + "\n" + Figures(states_);
        Status s = log_->PutCheckpoint(kCheckpointName, bytes);
        if (!s.ok()) Die("checkpoint: " + s.error().message);
        Report("C " + std::to_string(head));
      } else {
        LogWork w;
        w.kind = "support";
        w.task = "T" + std::to_string(rng_() % 5);
        w.staff = "anna";
        w.minutes = 15 + 15 * static_cast<int64_t>(rng_() % 16);
        w.at_us = st.zone().MonthStartUs(month) +
                  static_cast<int64_t>(rng_() % 27) * 86400000000LL + 10 * 3600000000LL;
        Commit(id, DecideLog(st, w, kNowUs), Key("work"));
      }
    }
  }

 private:
  ClientState& state(const std::string& id) {
    auto it = states_.find(id);
    if (it == states_.end()) {
      it = states_.emplace(id, ClientState()).first;
      it->second.set_id(id);
    }
    return it->second;
  }

  std::string Key(const char* what) {
    return "r" + std::to_string(round_) + "-" + what + "-" + std::to_string(++keys_);
  }

  void Load() {
    Status s = log_->ReadStream(kCatalogStream, 1, 0, [&](const ledger::EventView& v) {
      catalog_.Apply(v.seq, v.event);
      return true;
    });
    if (!s.ok()) Die("load catalog: " + s.error().message);
    for (const char* id : kClients) CatchUp(id);
  }

  void CatchUp(const std::string& id) {
    if (id == kCatalogStream) {
      Status s = log_->ReadStream(id, catalog_.version() + 1, 0, [&](const ledger::EventView& v) {
        catalog_.Apply(v.seq, v.event);
        return true;
      });
      if (!s.ok()) Die("read catalog: " + s.error().message);
      return;
    }
    ClientState& st = state(id);
    Status s = log_->ReadStream(id, st.version() + 1, 0, [&](const ledger::EventView& v) {
      st.Apply(v.seq, v.event);
      return true;
    });
    if (!s.ok()) Die("read " + id + ": " + s.error().message);
  }

  // Appends a decision (with the expected version) and reports it once acknowledged.
  void Commit(const std::string& stream, Result<Decision> decision, const std::string& key) {
    if (!decision.ok()) Die("decide on " + stream + ": " + decision.error().message);
    if (decision.value().events.empty()) return;
    ledger::AppendRequest req;
    req.client_id = stream;
    req.expected_version = stream == kCatalogStream ? catalog_.version() : state(stream).version();
    req.idempotency_key = key;
    for (ledger::EventDraft& d : decision.value().events) {
      d.root().setActor("crash");
      d.root().setIdempotencyKey(key);
      req.events.push_back(std::move(d));
    }
    auto r = log_->Append(std::move(req));
    if (!r.ok()) Die("append to " + stream + ": " + r.error().message);
    Report("A " + std::to_string(r.value().first_seq) + " " + std::to_string(r.value().count) +
           " " + stream + " " + key);
    CatchUp(stream);
  }

  // One write(2) per line, so the parent never sees half a line from a complete report.
  static void Report(const std::string& line) {
    const std::string buf = line + "\n";
    size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::write(STDOUT_FILENO, buf.data() + done, buf.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) std::_Exit(3);  // the parent is gone
      done += static_cast<size_t>(n);
    }
  }

  std::unique_ptr<ledger::Log> log_;
  uint32_t round_;
  std::mt19937_64 rng_;
  uint64_t keys_ = 0;
  Catalog catalog_;
  std::map<std::string, ClientState> states_;
};

int RunChild(const std::string& dir, uint32_t round, uint64_t seed) {
  ledger::Options o;
  o.durability = ledger::Durability::kSync;
  o.create_if_missing = true;
  auto log = ledger::Log::Open(dir, o);
  if (!log.ok()) Die("child open: " + log.error().message);
  Child child(std::move(log.value()), round, seed);
  child.Run();
  return 0;
}

// ---------------------------------------------------------------------------------------
// The parent.

struct Ack {
  uint64_t first_seq = 0;
  uint32_t count = 0;
  std::string stream, key;
};

struct RoundResult {
  std::vector<Ack> acks;
  std::vector<uint64_t> checkpoints;
  bool killed = false;
  std::string failure;  // empty = passed
};

// Parses complete lines out of `buf` (leaving a partial tail, which the kill may have cut).
void TakeLines(std::string& buf, RoundResult& out, uint32_t& acks_seen, bool& saw_pre) {
  size_t pos;
  while ((pos = buf.find('\n')) != std::string::npos) {
    const std::string line = buf.substr(0, pos);
    buf.erase(0, pos + 1);
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    if (tag == "A") {
      Ack a;
      in >> a.first_seq >> a.count >> a.stream >> a.key;
      out.acks.push_back(a);
      ++acks_seen;
    } else if (tag == "C") {
      uint64_t seq = 0;
      in >> seq;
      out.checkpoints.push_back(seq);
    } else if (tag == "P") {
      saw_pre = true;
    }
  }
}

std::string Check(const std::string& dir, const std::vector<Ack>& acks) {
  auto opened = ledger::Log::Open(dir, ledger::Options{});
  if (!opened.ok() && acks.empty()) {
    // Killed while `init` was creating the ledger: nothing was acknowledged, and a plain open
    // may refuse the half-made directory (no meta yet, or a column family missing). Creating
    // again must then work and find an empty or consistent ledger.
    ledger::Options create;
    create.create_if_missing = true;
    opened = ledger::Log::Open(dir, create);
    if (!opened.ok())
      return "a ledger killed during creation cannot be created again: " + opened.error().message;
  }
  if (!opened.ok()) return "reopen failed: " + opened.error().message;
  const ledger::Log& log = *opened.value();
  const uint64_t head = log.head_seq();

  // 1. The chain and the indexes.
  auto report = log.Verify();
  if (!report.ok()) return "Verify failed: " + report.error().message;
  if (!report.value().ok)
    return "Verify: seq " + std::to_string(report.value().first_bad_seq) + ": " +
           report.value().problem;
  if (report.value().events_checked != head)
    return "Verify checked " + std::to_string(report.value().events_checked) + " of " +
           std::to_string(head) + " events";

  // 2. Every acknowledged append.
  for (const Ack& a : acks) {
    if (a.first_seq + a.count - 1 > head)
      return "acknowledged seq " + std::to_string(a.first_seq + a.count - 1) + " (key " + a.key +
             ") is beyond the head " + std::to_string(head) + " after the crash";
    for (uint64_t seq = a.first_seq; seq < a.first_seq + a.count; ++seq) {
      auto bytes = log.Get(seq);
      if (!bytes.ok())
        return "acknowledged seq " + std::to_string(seq) + ": " + bytes.error().message;
      std::string client, key;
      Status s = ledger::DecodeEvent(seq, bytes.value(), [&](schemas::Event::Reader e) {
        client = TextOf(e.getClientId());
        key = TextOf(e.getIdempotencyKey());
      });
      if (!s.ok()) return s.error().message;
      if (client != a.stream || key != a.key)
        return "seq " + std::to_string(seq) + " holds " + client + "/" + key +
               ", acknowledged as " + a.stream + "/" + a.key;
    }
    auto rec = log.LookupKey(a.key);
    if (!rec.ok()) return rec.error().message;
    if (!rec.value() || rec.value()->first_seq != a.first_seq || rec.value()->count != a.count)
      return "the keys index lost or changed acknowledged key " + a.key;
  }

  // 3. All or nothing, per key.
  struct Run {
    uint64_t first = 0, last = 0;
    uint32_t count = 0;
  };
  std::map<std::string, Run> runs;
  std::string problem;
  Status s = log.Scan(1, 0, [&](const ledger::EventView& v) {
    const std::string key = TextOf(v.event.getIdempotencyKey());
    if (key.empty()) {
      problem = "seq " + std::to_string(v.seq) + " has no idempotency key";
      return false;
    }
    Run& r = runs[key];
    if (r.count == 0)
      r.first = v.seq;
    else if (r.last + 1 != v.seq) {
      problem = "the events of key " + key + " are not contiguous";
      return false;
    }
    r.last = v.seq;
    ++r.count;
    return true;
  });
  if (!s.ok()) return "scan: " + s.error().message;
  if (!problem.empty()) return problem;
  for (const auto& [key, r] : runs) {
    auto rec = log.LookupKey(key);
    if (!rec.ok()) return rec.error().message;
    if (!rec.value() || rec.value()->first_seq != r.first || rec.value()->count != r.count)
      return "key " + key + " has " + std::to_string(r.count) + " events from seq " +
             std::to_string(r.first) + " but its record disagrees (half-written batch?)";
  }

  // 4. Contiguous stream versions.
  auto streams = log.ListStreams();
  if (!streams.ok()) return streams.error().message;
  uint64_t total = 0;
  for (const std::string& id : streams.value()) {
    auto version = log.StreamVersion(id);
    if (!version.ok()) return version.error().message;
    uint32_t seen = 0;
    uint64_t last_seq = 0;
    s = log.ReadStream(id, 1, 0, [&](const ledger::EventView& v) {
      ++seen;
      if (v.seq <= last_seq || TextOf(v.event.getClientId()) != id) {
        problem =
            "stream " + id + " version " + std::to_string(seen) + " is out of order or foreign";
        return false;
      }
      last_seq = v.seq;
      return true;
    });
    if (!s.ok()) return "read stream: " + s.error().message;
    if (!problem.empty()) return problem;
    if (seen != version.value())
      return "stream " + id + " reads " + std::to_string(seen) + " events, version " +
             std::to_string(version.value());
    total += seen;
  }
  if (total != head)
    return "stream versions sum to " + std::to_string(total) + ", head is " + std::to_string(head);

  // 5. Projections rebuild identically; a checkpoint is all or nothing.
  auto a = FoldByScan(log, 0);
  auto b = FoldByStreams(log);
  if (!a.ok() || !b.ok()) return "fold failed";
  const std::string fa = Figures(a.value()), fb = Figures(b.value());
  if (fa != fb) return "two folds disagree:\n" + fa + "---\n" + fb;
  for (const auto& [id, st] : a.value())
    if (!st.problems().empty())
      return "replay problem in " + id + " at seq " + std::to_string(st.problems()[0].seq) + ": " +
             st.problems()[0].what;
  auto ckpt = log.GetCheckpoint(kCheckpointName);
  if (!ckpt.ok()) return "checkpoint read: " + ckpt.error().message;
  if (ckpt.value()) {
    const std::string& bytes = *ckpt.value();
    const size_t nl = bytes.find('\n');
    if (nl == std::string::npos) return "checkpoint is torn (no header)";
    const uint64_t seq = std::strtoull(bytes.substr(0, nl).c_str(), nullptr, 10);
    if (seq > head) return "checkpoint is ahead of the log";
    auto at = FoldByScan(log, seq == 0 ? 1 : seq);
    if (!at.ok()) return "fold to checkpoint failed";
    std::map<std::string, ClientState> empty;
    const std::string expect = Figures(seq == 0 ? empty : at.value());
    if (bytes.substr(nl + 1) != expect)
      return "checkpoint at seq " + std::to_string(seq) + " differs from a fold";
  }
  return "";
}

RoundResult RunRound(const std::string& self, const std::string& dir, uint32_t round,
                     std::mt19937_64& rng) {
  RoundResult out;
  int fds[2];
  if (::pipe(fds) != 0) Die("pipe");
  const uint64_t child_seed = rng();
  const pid_t pid = ::fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    const std::string r = std::to_string(round), sd = std::to_string(child_seed);
    ::execl(self.c_str(), self.c_str(), "--child", dir.c_str(), r.c_str(), sd.c_str(),
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);

  // How this round's kill is timed.
  const uint32_t mode = rng() % 4;
  const auto spawn = std::chrono::steady_clock::now();
  const auto blind_delay =
      std::chrono::microseconds(rng() % 60000);  // mode 0: any moment, startup included
  const uint32_t acks_target = 1 + static_cast<uint32_t>(rng() % 40);  // mode 1: after N acks
  const auto jitter = std::chrono::microseconds(rng() % 3000);
  // mode 2/3: right after the child announces a close batch / checkpoint (+ 0..400 µs)
  const auto pre_jitter = std::chrono::microseconds(rng() % 400);

  std::string buf;
  uint32_t acks_seen = 0;
  bool saw_pre = false;
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  const auto deadline = spawn + std::chrono::seconds(20);  // a round never waits longer
  bool exited = false;
  int status = 0;
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (!kill_at) {
      if (mode == 0)
        kill_at = spawn + blind_delay;
      else if (mode == 1 && acks_seen >= acks_target)
        kill_at = now + jitter;
      else if (mode >= 2 && saw_pre && acks_seen >= 5)
        kill_at = now + pre_jitter;
      else if (now > deadline)
        kill_at = now;
    }
    if (kill_at && now >= *kill_at) break;
    int wait_ms = 5;
    if (kill_at)
      wait_ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(*kill_at - now).count());
    pollfd p{fds[0], POLLIN, 0};
    int pr = ::poll(&p, 1, wait_ms < 0 ? 0 : wait_ms);
    if (pr > 0) {
      char tmp[4096];
      ssize_t n = ::read(fds[0], tmp, sizeof tmp);
      if (n > 0) {
        buf.append(tmp, static_cast<size_t>(n));
        TakeLines(buf, out, acks_seen, saw_pre);
      } else if (n == 0) {
        exited = true;  // the child closed its end: it exited on its own
        break;
      }
    }
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    out.killed = true;
  }
  ::waitpid(pid, &status, 0);
  // Whatever the child wrote before it died was acknowledged: drain the pipe.
  char tmp[4096];
  ssize_t n;
  while ((n = ::read(fds[0], tmp, sizeof tmp)) > 0) buf.append(tmp, static_cast<size_t>(n));
  ::close(fds[0]);
  TakeLines(buf, out, acks_seen, saw_pre);
  if (!out.killed || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    out.failure = "the child exited by itself (status " + std::to_string(status) + ")";
    return out;
  }
  return out;
}

int RunParent(int argc, char** argv) {
  uint32_t rounds_max = 200;
  double seconds_max = 90;
  uint64_t seed = std::random_device{}();
  std::string dir;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--rounds")
      rounds_max = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--seconds")
      seconds_max = std::stod(next());
    else if (a == "--seed")
      seed = std::stoull(next());
    else if (a == "--dir")
      dir = next();
    else if (a == "--keep")
      keep = true;
    else
      Die("unknown argument " + a + " (use --rounds N --seconds S --seed X --dir D --keep)");
  }
  if (dir.empty()) {
    char tmpl[] = "/tmp/hourbank-crash-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Die("mkdtemp");
    dir = tmpl;
  }
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  std::printf("crash test: seed %" PRIu64 ", up to %u rounds or %.0f s, ledger %s\n", seed,
              rounds_max, seconds_max, dir.c_str());
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  uint32_t passed = 0, failed = 0;
  uint64_t acks_total = 0, closes_acked = 0, ckpts = 0, events_max = 0;
  std::vector<Ack> acks;  // acknowledged appends since the directory was created
  for (uint32_t round = 0; round < rounds_max; ++round) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed >= seconds_max) break;
    const std::string ledger_dir = dir + "/ledger";
    if (round % kRoundsPerLedger == 0) {
      std::filesystem::remove_all(ledger_dir);
      acks.clear();
    }
    RoundResult r = RunRound(self, ledger_dir, round, rng);
    for (const Ack& a : r.acks) {
      acks.push_back(a);
      ++acks_total;
      if (a.count > 1) ++closes_acked;
    }
    ckpts += r.checkpoints.size();
    std::string failure = r.failure;
    if (failure.empty()) failure = Check(ledger_dir, acks);
    if (failure.empty()) {
      ++passed;
    } else {
      ++failed;
      std::printf("round %u FAILED: %s\n", round, failure.c_str());
      std::fflush(stdout);
      if (failed >= 5) break;
    }
    auto opened = ledger::Log::Open(ledger_dir, ledger::Options{});
    if (opened.ok() && opened.value()->head_seq() > events_max)
      events_max = opened.value()->head_seq();
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "crash test: %u passed, %u failed (SIGKILLs survived: %u; acknowledged appends checked: "
      "%" PRIu64 ", of which multi-event close batches: %" PRIu64
      "; checkpoints acknowledged: %" PRIu64 "; largest ledger: %" PRIu64 " events) in %.1f s\n",
      passed, failed, passed, acks_total, closes_acked, ckpts, events_max, elapsed);
  if (!keep) std::filesystem::remove_all(dir);
  return failed == 0 && passed > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--child")
    return RunChild(argv[2], static_cast<uint32_t>(std::stoul(argv[3])), std::stoull(argv[4]));
  return RunParent(argc, argv);
}
