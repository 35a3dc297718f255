// The ledger directory on disk: read-only opens change nothing, files are private whatever the
// umask, and Verify's fast pass finds index damage exactly as the precise pass does.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>

#include "ledger/raw.h"
#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;
namespace fs = std::filesystem;

namespace {

// Every file of `dir` (recursively): name -> (size, mtime ns, BLAKE2b of the bytes), and the
// directory's own mtime. Equal snapshots: nothing was created, deleted, renamed or written.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    REQUIRE(::lstat(e.path().c_str(), &st) == 0);
    std::string bytes;
    if (e.is_regular_file()) {
      std::ifstream in(e.path(), std::ios::binary);
      bytes.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    out[fs::relative(e.path(), dir).string()] =
        std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
        std::to_string(st.st_mtim.tv_nsec) + " " + std::to_string(st.st_mode) + " " +
        HexOf(Digest(bytes));
  }
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  out["."] = std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  return out;
}

// A ledger with events both in table files and in the WAL (the state a closed server leaves).
void MakeLedger(const std::string& dir) {
  {
    auto log = OpenLog(dir);
    for (int i = 0; i < 30; ++i)
      MustAppend(*log, Request("acme", {"t" + std::to_string(i)}, "k" + std::to_string(i)));
  }
  {
    auto log = OpenLog(dir, Options{});  // replays the WAL into a table file
    for (int i = 0; i < 5; ++i) MustAppend(*log, Request("beta", {"u" + std::to_string(i)}));
    REQUIRE(log->PutCheckpoint("cp", "bytes").ok());
  }
}

Options ReadOnly() {
  Options o;
  o.read_only = true;
  return o;
}

}  // namespace

TEST_CASE("a read-only open reads every event and changes nothing in the directory",
          "[ledger][readonly]") {
  TempDir tmp;
  MakeLedger(tmp.ledger());
  const auto before = Snapshot(tmp.ledger());
  {
    auto log = OpenLog(tmp.ledger(), ReadOnly());
    CHECK(log->head_seq() == 35);  // 30 from table files, 5 replayed from the WAL in memory
    Seen seen;
    REQUIRE(log->Scan(1, 0, seen.visitor()).ok());
    CHECK(seen.seqs.size() == 35);
    Seen beta;
    REQUIRE(log->ReadStream("beta", 1, 0, beta.visitor()).ok());
    CHECK(beta.tasks == std::vector<std::string>{"u0", "u1", "u2", "u3", "u4"});
    auto v = log->Verify();
    REQUIRE(v.ok());
    CHECK(v->ok);
    CHECK(log->GetCheckpoint("cp").value() == std::optional<std::string>("bytes"));
    // Writes are refused with a clear error, and write nothing.
    auto r = log->Append(Request("acme", {"x"}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::kInvalid);
    CHECK_THAT(r.error().message, Catch::Contains("read-only"));
    CHECK_FALSE(log->PutCheckpoint("cp2", "x").ok());
    CHECK_FALSE(log->DropCheckpoints().ok());
    CHECK(log->health().ok);
  }
  CHECK(Snapshot(tmp.ledger()) == before);
}

TEST_CASE("a read-only open works on a read-only mount of the ledger (when mounting is allowed)",
          "[ledger][readonly]") {
  TempDir tmp;
  MakeLedger(tmp.ledger());
  const std::string ro = tmp.path() + "/ro";
  fs::create_directory(ro);
  // A read-only bind mount is the honest test: as root, chmod a-w does not stop writes.
  if (::mount(tmp.ledger().c_str(), ro.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    WARN("bind mount not allowed here; the read-only mount case is not exercised");
    return;
  }
  const bool remounted =
      ::mount(nullptr, ro.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
  if (remounted) {
    REQUIRE(::access((ro + "/CURRENT").c_str(), W_OK) != 0);  // really read-only
    {
      auto log = OpenLog(ro, ReadOnly());
      CHECK(log->head_seq() == 35);
      CHECK(log->Verify().value().ok);
    }
    // A read-write open cannot work there, and says so.
    auto rw = Log::Open(ro, Options{});
    CHECK_FALSE(rw.ok());
  } else {
    WARN("read-only remount not allowed here; the read-only mount case is not exercised");
  }
  ::umount2(ro.c_str(), MNT_DETACH);
}

TEST_CASE("a read-only open of a ledger another process holds is refused as busy",
          "[ledger][readonly]") {
  TempDir tmp;
  MakeLedger(tmp.ledger());
  // In this process RocksDB's lock is not visible to fcntl(F_GETLK); use a child holding it.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto log = Log::Open(tmp.ledger(), Options{});
    char c = log.ok() ? 'y' : 'n';
    (void)!::write(fds[1], &c, 1);
    ::pause();
    std::_Exit(0);
  }
  ::close(fds[1]);
  char c = 0;
  REQUIRE(::read(fds[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  auto log = Log::Open(tmp.ledger(), ReadOnly());
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(fds[0]);
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Code::kBusy);
}

TEST_CASE("a new ledger directory is 0700 and its files 0600 even under umask 000",
          "[ledger][permissions]") {
  TempDir tmp;
  const mode_t old = ::umask(0);
  {
    auto log = OpenLog(tmp.ledger());
    for (int i = 0; i < 10; ++i) MustAppend(*log, Request("acme", {"t"}));
  }
  {
    auto log = OpenLog(tmp.ledger(), Options{});
    MustAppend(*log, Request("acme", {"u"}));
  }  // flush: table files
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat(tmp.ledger().c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  int files = 0;
  for (const auto& e : fs::directory_iterator(tmp.ledger())) {
    REQUIRE(::stat(e.path().c_str(), &st) == 0);
    INFO(e.path().filename().string() << " mode " << std::oct << (st.st_mode & 07777));
    CHECK((st.st_mode & 077) == 0);
    ++files;
  }
  CHECK(files >= 6);  // CURRENT, IDENTITY, LOCK, LOG, MANIFEST, OPTIONS, WAL, tables
}

TEST_CASE("Verify's fast pass reports each kind of index damage as the precise pass does",
          "[ledger][verify]") {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.ledger());
    for (int i = 0; i < 40; ++i) {
      MustAppend(*log, Request(i % 2 ? "acme" : "beta", {"t" + std::to_string(i), "u"},
                               "k" + std::to_string(i)));
    }
    CHECK(log->Verify().value().ok);
  }
  SECTION("a streams entry pointing at the wrong event") {
    REQUIRE(raw::RawPut(tmp.ledger(), "streams", raw::StreamKey("acme", 3), raw::SeqKey(8)).ok());
  }
  SECTION("an extra streams entry past the stream's end") {
    REQUIRE(raw::RawPut(tmp.ledger(), "streams", raw::StreamKey("acme", 41), raw::SeqKey(80)).ok());
  }
  SECTION("a missing streams entry") {  // beta's last request: versions 39..40
    REQUIRE(raw::RawDelete(tmp.ledger(), "streams", raw::StreamKey("beta", 39)).ok());
  }
  SECTION("a keys record covering one event too few") {
    auto v = raw::RawGet(tmp.ledger(), "keys", "k5").value().value();
    v[11] = static_cast<char>(v[11] - 1);  // count 2 -> 1
    REQUIRE(raw::RawPut(tmp.ledger(), "keys", "k5", v).ok());
  }
  SECTION("a keys record moved onto other events") {
    auto v = raw::RawGet(tmp.ledger(), "keys", "k5").value().value();
    v[7] = static_cast<char>(v[7] + 2);  // first_seq + 2
    REQUIRE(raw::RawPut(tmp.ledger(), "keys", "k5", v).ok());
  }
  SECTION("a keys record removed") { REQUIRE(raw::RawDelete(tmp.ledger(), "keys", "k9").ok()); }
  SECTION("a keys record for events that carry no key") {
    auto v = raw::RawGet(tmp.ledger(), "keys", "k5").value().value();
    REQUIRE(raw::RawPut(tmp.ledger(), "keys", "other", v).ok());
  }
  auto log = OpenLog(tmp.ledger(), Options{});
  auto v = log->Verify();
  REQUIRE(v.ok());
  CHECK_FALSE(v->ok);
  CHECK_FALSE(v->problem.empty());
  INFO(v->problem);
  CHECK((v->problem.find("streams index") != std::string::npos ||
         v->problem.find("keys index") != std::string::npos));
}
