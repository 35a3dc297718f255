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

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "ledger/log.h"
#include "ledger/recover.h"

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
  bool read_failed = false;  // some Get or Verify reported an error
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

// The WAL as written: one 32 KiB-block framed file of records (ledger/wal.h). Returns the
// offset of every record header, in order.
std::vector<uint64_t> RecordOffsets(const std::string& bytes) {
  std::vector<uint64_t> out;
  uint64_t pos = 0;
  while (pos + 7 <= bytes.size()) {
    const uint64_t left = 32768 - pos % 32768;
    if (left < 7) {
      pos += left;
      continue;
    }
    const uint64_t len =
        static_cast<uint8_t>(bytes[pos + 4]) | uint64_t(static_cast<uint8_t>(bytes[pos + 5])) << 8;
    out.push_back(pos);
    pos += 7 + len;
  }
  return out;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_CASE(
    "a flipped byte anywhere in the WAL of a closed ledger is refused naming the WAL, or "
    "every acknowledged event is read back intact",
    "[reliability][corruption][wal]") {
  TempDir tmp;
  const std::string pristine = tmp.path() + "/pristine";
  const auto stored = WriteLedger(pristine, 60);  // 60 acknowledged appends, all in the WAL
  const auto wals = FilesEnding(pristine, ".log");
  REQUIRE(wals.size() == 1);
  const fs::path wal = wals.back();
  const uint64_t size = fs::file_size(wal);
  REQUIRE(size > 8192);
  std::mt19937_64 rng(42);
  constexpr int kTrials = 40;
  int refused = 0, intact = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const std::string copy = tmp.path() + "/copy" + std::to_string(trial);
    fs::copy(pristine, copy, fs::copy_options::recursive);
    // Spread over the WHOLE file: trial k hits the k-th fortieth, at a random byte in it.
    const uint64_t offset = trial * size / kTrials + rng() % (size / kTrials);
    const fs::path damaged = fs::path(copy) / wal.filename();
    FlipByte(damaged, offset);
    const std::string damaged_bytes = ReadFile(damaged);
    INFO("trial " << trial << ": WAL byte " << offset << " of " << size);
    auto opened = ledger::Log::Open(copy, ledger::Options{});
    if (!opened.ok()) {
      ++refused;
      INFO("open error: " << opened.error().message);
      CHECK(opened.error().code == Code::kCorruption);
      CHECK(opened.error().message.find(wal.filename().string()) != std::string::npos);
      CHECK(opened.error().message.find("hourbank recover") != std::string::npos);
      // The damaged WAL is kept as it was: the refused open changed nothing in it.
      REQUIRE(fs::exists(damaged));
      CHECK(ReadFile(damaged) == damaged_bytes);
      // A second attempt refuses the same way (nothing was "repaired" by the first).
      CHECK(!ledger::Log::Open(copy, ledger::Options{}).ok());
    } else {
      // Not refused: then every acknowledged event is there, byte for byte.
      ++intact;
      ledger::Log& log = *opened.value();
      REQUIRE(log.head_seq() == stored.size());
      std::map<uint64_t, std::string> read_back;
      REQUIRE(log.Scan(1, 0,
                       [&](const ledger::EventView& v) {
                         read_back[v.seq] = std::string(v.bytes);
                         return true;
                       })
                  .ok());
      CHECK(read_back == stored);
      auto v = log.Verify();
      REQUIRE(v.ok());
      CHECK(v.value().ok);
    }
    fs::remove_all(copy);
  }
  UNSCOPED_INFO("whole-WAL flips: "
                << refused << " refused naming the WAL, " << intact
                << " read back complete and intact (the flip hit block padding)");
  // Nearly every byte of this WAL is a record (header or payload) covered by a checksum, so
  // flips must be refused; "intact" can only be the few trailer bytes at 32 KiB boundaries.
  CHECK(refused >= kTrials - 2);
}

TEST_CASE(
    "a damaged length field in the LAST WAL record is refused, not taken for an unfinished "
    "write",
    "[reliability][corruption][wal]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/l";
  const auto stored = WriteLedger(dir, 20);
  const fs::path wal = FilesEnding(dir, ".log").back();
  std::string bytes = ReadFile(wal);
  const auto offsets = RecordOffsets(bytes);
  REQUIRE(offsets.size() >= 20);
  const uint64_t last = offsets.back();
  // The length grows by 64: the record now seems to run past the end of the file, as a torn
  // write would; its checksum still matches its true length, which tells them apart.
  uint16_t len = static_cast<uint8_t>(bytes[last + 4]) |
                 static_cast<uint16_t>(static_cast<uint8_t>(bytes[last + 5])) << 8;
  len = static_cast<uint16_t>(len + 64);
  bytes[last + 4] = static_cast<char>(len & 0xff);
  bytes[last + 5] = static_cast<char>(len >> 8);
  { std::ofstream(wal, std::ios::binary | std::ios::trunc) << bytes; }
  auto opened = ledger::Log::Open(dir, ledger::Options{});
  REQUIRE(!opened.ok());
  CHECK(opened.error().code == Code::kCorruption);
  CHECK(opened.error().message.find(wal.filename().string()) != std::string::npos);
  CHECK(opened.error().message.find("at byte " + std::to_string(last)) != std::string::npos);
}

TEST_CASE(
    "a WAL whose last record was cut short (an append that never finished) opens with "
    "every acknowledged event",
    "[reliability][corruption][wal]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/l";
  const auto stored = WriteLedger(dir, 20);
  {
    auto log = MustOpen(dir);
    REQUIRE(log->head_seq() == 20);
  }  // WAL now in a table file
  {
    auto log = MustOpen(dir);
    for (uint64_t i = 100; i < 105; ++i) REQUIRE(AppendOne(*log, i).ok());
  }
  const fs::path wal = FilesEnding(dir, ".log").back();
  const uint64_t size = fs::file_size(wal);
  // Cut the last append's record in half, as a crash part way through its write would.
  std::string bytes = ReadFile(wal);
  const uint64_t last = RecordOffsets(bytes).back();
  fs::resize_file(wal, last + (size - last) / 2);
  auto log = MustOpen(dir);
  CHECK(log->head_seq() == 24);  // the cut append was never acknowledged; the other 24 were
  for (uint64_t seq = 1; seq <= 20; ++seq) CHECK(log->Get(seq).value() == stored.at(seq));
  CHECK(log->Verify().value().ok);
}

TEST_CASE(
    "hourbank recover copies every readable event of a ledger with a damaged WAL into a "
    "new ledger and reports exactly which seqs were lost",
    "[reliability][corruption][wal][recover]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/l";
  const auto stored = WriteLedger(dir, 60);
  const fs::path wal = FilesEnding(dir, ".log").back();
  const std::string pristine_bytes = ReadFile(wal);
  const auto offsets = RecordOffsets(pristine_bytes);
  // One record per append here (each append its own synced group): record k holds seq k.
  // The records: [0] may be a metadata/setup record; find the one of seq 30 by flipping a
  // payload byte in the record 10 from the end.
  REQUIRE(offsets.size() >= 60);
  const uint64_t target = offsets[offsets.size() - 10];
  FlipByte(wal, target + 20);
  REQUIRE(!ledger::Log::Open(dir, ledger::Options{}).ok());
  const std::string damaged_bytes = ReadFile(wal);

  const std::string to = tmp.path() + "/recovered";
  auto rep = ledger::Recover(dir, to, 1);
  REQUIRE(rep.ok());
  INFO(rep.value().text);
  // The damaged ledger and its WAL are untouched; a copy of the WAL is kept as evidence.
  CHECK(ReadFile(wal) == damaged_bytes);
  CHECK(ReadFile(fs::path(to) / "recovery" / "wal" / wal.filename()) == damaged_bytes);
  CHECK(fs::exists(fs::path(to) / "recovery" / "report.txt"));
  // Exactly one append was in the damaged record: one seq lost, and every other seq either
  // copied byte for byte (before it) or appended anew (after it).
  const auto& r = rep.value();
  REQUIRE(r.lost.size() == 1);
  CHECK(r.lost_count == 1);
  const uint64_t lost = r.lost[0].first;
  CHECK(r.lost[0].second == lost);
  CHECK(r.copied == lost - 1);
  CHECK(r.reappended.size() == 60 - lost);
  CHECK(r.text.find(fmt::format("LOST: 1 events: seqs {}", lost)) != std::string::npos);
  auto log = MustOpen(to);
  CHECK(log->head_seq() == 59);
  CHECK(log->Verify().value().ok);
  for (uint64_t seq = 1; seq < lost; ++seq) CHECK(log->Get(seq).value() == stored.at(seq));
  // The re-appended events carry the same bodies: the same task names, in order.
  for (const auto& [old_seq, new_seq] : r.reappended) {
    std::string old_task, new_task;
    REQUIRE(ledger::DecodeEvent(old_seq, stored.at(old_seq), [&](schemas::Event::Reader e) {
              old_task = e.getBody().getWorkLogged().getTask();
            }).ok());
    REQUIRE(ledger::DecodeEvent(new_seq, log->Get(new_seq).value(), [&](schemas::Event::Reader e) {
              new_task = e.getBody().getWorkLogged().getTask();
            }).ok());
    CHECK(old_task == new_task);
  }
  // A second recover into the same place is refused (never overwrites).
  CHECK(!ledger::Recover(dir, to, 1).ok());
}

TEST_CASE("a flipped byte in an SST file of a closed ledger is reported, never served as an event",
          "[reliability][corruption]") {
  TempDir tmp;
  const std::string pristine = tmp.path() + "/pristine";
  const auto stored = WriteLedger(pristine, 200);
  // Reopening replays the WAL into SST files (RocksDB flushes after recovery).
  {
    auto log = MustOpen(pristine);
    REQUIRE(log->head_seq() == 200);
  }
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
      if (o.open_failed || o.read_failed || !o.verify_ok)
        ++detected;
      else
        CHECK(o.head == stored.size());  // undetected means the flip hit bytes no read uses
    }
  }
  UNSCOPED_INFO("SST flips: " << detected << " of " << trials << " detected");
  CHECK(trials > 0);
}

// ---- disk full

// Appends in a child until an append fails; writes "acked N" and the error to `report_fd`.
// Then, without reopening: the Log reports itself unhealthy with the reason; space comes back
// (`filler` removed, or the file-size limit raised); health() is ok again and appends work.
// With `resume` false it stops after the failed appends (and a few health probes), the
// later ones `full_wait_ms` after the first.
[[noreturn]] void FillChild(const std::string& dir, int report_fd, bool limit_file_size,
                            const std::string& filler, bool resume = true, int full_wait_ms = 0) {
  if (limit_file_size) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{};
    ::getrlimit(RLIMIT_FSIZE, &lim);
    lim.rlim_cur = 2u << 20;  // the soft limit only, so it can be raised again
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
      uint64_t i = 1000;
      for (; i < 1000 + 100000; ++i) {
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
      const ledger::Health full = log.value()->health();
      if (!resume) {
        // More failing writes and probes while the disk stays full: RocksDB logs each one.
        std::this_thread::sleep_for(std::chrono::milliseconds(full_wait_ms));
        for (int k = 0; k < 5; ++k) {
          (void)AppendOne(*log.value(), 600000 + static_cast<uint64_t>(k), 8000);
          (void)log.value()->health();
        }
        out = "acked " + std::to_string(acked) + "\ncode " + std::to_string(code) + "\n";
        (void)!::write(report_fd, out.data(), out.size());
        std::_Exit(0);  // without closing: as a crash would leave it
      }

      // Space back, same process, same Log.
      if (limit_file_size) {
        rlimit lim{};
        ::getrlimit(RLIMIT_FSIZE, &lim);
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_FSIZE, &lim);
      } else {
        std::error_code ec;
        fs::remove(filler, ec);
      }
      // The Log tries to resume (by reopening its database) at most once a second, so a full
      // disk does not spin; the failed attempts above were just now, so wait that out. Then
      // the next health probe (what /healthz does) resumes writing, and the next append works.
      std::this_thread::sleep_for(std::chrono::milliseconds(1100));
      const ledger::Health back = log.value()->health();
      auto resumed = AppendOne(*log.value(), 500000, 100);
      out = "acked " + std::to_string(acked) + "\ncode " + std::to_string(code) + "\nerror " +
            error + "\nhealth_full " + (full.ok ? "ok" : "unhealthy") + " " + full.reason +
            "\nhealth_back " + (back.ok ? "ok" : "unhealthy") + " " + back.reason + "\nresumed " +
            (resumed.ok() ? "ok" : "failed " + resumed.error().message) + "\n";
    }
  }
  (void)!::write(report_fd, out.data(), out.size());
  std::_Exit(0);
}

// A 12 MiB tmpfs at `mnt` (created); false when mounting is not allowed here.
bool MountSmallDisk(const std::string& mnt) {
  fs::create_directory(mnt);
  return ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=12m") == 0;
}

// Writes `filler` so that about `leave` bytes stay free on the volume of `mnt`.
void FillLeaving(const std::string& mnt, const std::string& filler, uint64_t leave) {
  const uint64_t free_bytes = fs::space(mnt).available;
  REQUIRE(free_bytes > leave + (1u << 19));
  std::ofstream f(filler, std::ios::binary);
  const std::string chunk(1 << 16, 'x');
  for (uint64_t left = free_bytes - leave; left > 0;) {
    const uint64_t n = std::min<uint64_t>(left, chunk.size());
    f.write(chunk.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
}

// Runs `child(write_fd)` in a forked child (which must not return) and collects what it
// writes to the pipe; *status is its wait status.
template <typename Child>
std::string RunChild(Child child, int* status) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1]);
    std::_Exit(1);
  }
  ::close(fds[1]);
  std::string report;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, status, 0);
  return report;
}

std::string LineAfter(const std::string& report, const std::string& key) {
  const size_t at = report.find("\n" + key + " ");
  if (at == std::string::npos) return "";
  const size_t start = at + key.size() + 2;
  return report.substr(start, report.find('\n', start) - start);
}

TEST_CASE(
    "disk full: the append fails with a clear error, the log reports itself unhealthy with the "
    "reason, nothing acknowledged is lost, and the ledger works again with space back",
    "[reliability][diskfull]") {
  TempDir tmp;
  const std::string mnt = tmp.path() + "/mnt";
  const bool mounted = MountSmallDisk(mnt);
  const std::string dir = mnt + "/ledger";
  std::string filler = mnt + "/filler";
  {
    auto log = MustOpen(dir, true);
    for (uint64_t i = 0; i < 10; ++i) REQUIRE(AppendOne(*log, i).ok());
  }
  // Leave about 1.5 MiB free, so the ledger runs out of space mid-stream.
  if (mounted) FillLeaving(mnt, filler, 3u << 19);
  UNSCOPED_INFO((mounted ? "disk full via a 12 MiB tmpfs"
                         : "disk full via RLIMIT_FSIZE (mount not allowed)"));
  int status = 0;
  const std::string report =
      RunChild([&](int fd) { FillChild(dir, fd, !mounted, filler); }, &status);
  INFO("child report: " << report);
  REQUIRE(WIFEXITED(status));
  uint64_t acked = 0;
  int code = 0;
  char error[600] = {0};
  REQUIRE(std::sscanf(report.c_str(), "acked %lu\ncode %d\nerror %599[^\n]", &acked, &code,
                      error) >= 2);
  CHECK(acked > 10);                           // it did run for a while
  CHECK(code == static_cast<int>(Code::kIo));  // and then failed as an I/O error
  CHECK(std::string(error).size() > 10);       // with a message
  CHECK(std::string(error).find("RETRY SUCCEEDED") == std::string::npos);
  // While writes failed, the log said so, with the reason (what /healthz reports).
  const std::string health_full = LineAfter(report, "health_full");
  CHECK(health_full.rfind("unhealthy ", 0) == 0);
  CHECK(health_full.size() > 20);
  // Space back, same process, same Log object: healthy again, and the next append works.
  CHECK(LineAfter(report, "health_back") == "ok ");
  CHECK(LineAfter(report, "resumed") == "ok");

  {
    auto log = MustOpen(dir);
    CHECK(log->head_seq() >= 10 + acked + 1);
    // The append made after space came back is there too.
    auto after = log->LookupKey("k500000");
    REQUIRE(after.ok());
    CHECK(after.value().has_value());
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

TEST_CASE(
    "disk full at many different points: the process never aborts and every acknowledged "
    "append survives",
    "[reliability][diskfull]") {
  // Where the volume runs out (part way through a WAL record, RocksDB's info LOG, a table
  // file) depends on the bytes left; each round leaves a different amount. RocksDB's own info
  // logger aborted the process on the second line after a failed write (about 1 round in 15
  // hit it, and every time when the disk stayed full for 5 s: RocksDB's logger writes its
  // buffer out every 5 s, that write fails, and the next line aborted); hourbank's
  // (ledger/info_log.h) drops the line instead.
  TempDir tmp;
  const std::string mnt = tmp.path() + "/mnt";
  if (!MountSmallDisk(mnt)) {
    WARN("mounting a tmpfs is not allowed here: only the RLIMIT_FSIZE case above runs");
    return;
  }
  for (uint64_t round = 0; round < 12; ++round) {
    const std::string dir = fmt::format("{}/ledger{}", mnt, round);
    const std::string filler = mnt + "/filler";
    {
      auto log = MustOpen(dir, true);
      for (uint64_t i = 0; i < 10; ++i) REQUIRE(AppendOne(*log, i).ok());
    }
    const uint64_t leave = (1u << 19) + round * 4099 + round * round * 517;
    FillLeaving(mnt, filler, leave);
    int status = 0;
    const std::string report = RunChild(
        [&](int fd) { FillChild(dir, fd, false, filler, /*resume=*/false, round == 0 ? 5200 : 0); },
        &status);
    INFO("round " << round << ", " << leave << " bytes left; child report: " << report);
    REQUIRE(WIFEXITED(status));  // an abort inside RocksDB ends the child by SIGABRT
    uint64_t acked = 0;
    int code = 0;
    REQUIRE(std::sscanf(report.c_str(), "acked %lu\ncode %d", &acked, &code) == 2);
    CHECK(acked > 10);
    CHECK(code == static_cast<int>(Code::kIo));
    fs::remove(filler);
    {
      auto log = MustOpen(dir);
      CHECK(log->head_seq() >= 10 + acked);
      for (uint64_t i = 1000; i < 1000 + acked; ++i) {
        auto rec = log->LookupKey("k" + std::to_string(i));
        REQUIRE(rec.ok());
        CHECK(rec.value().has_value());
      }
      CHECK(log->Verify().value().ok);
      REQUIRE(AppendOne(*log, 999999).ok());
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  ::umount2(mnt.c_str(), MNT_DETACH);
}

}  // namespace
