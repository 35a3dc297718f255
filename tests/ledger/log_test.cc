// Opening, locking, hashing and decoding: the edges of the ledger.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "ledger/raw.h"
#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;

TEST_CASE("opening a missing directory without create says to run hourbank init",
          "[ledger][open]") {
  TempDir tmp;
  auto log = Log::Open(tmp.ledger(), Options{});
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Code::kNotFound);
  CHECK_THAT(log.error().message, Catch::Contains(tmp.ledger()));
  CHECK_THAT(log.error().message, Catch::Contains("run `hourbank init` first"));
  CHECK_FALSE(std::filesystem::exists(tmp.ledger()));
}

TEST_CASE("opening a directory that is not a ledger is kNotFound", "[ledger][open]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.ledger());
  std::ofstream(tmp.ledger() + "/notes.txt") << "not a ledger\n";
  auto log = Log::Open(tmp.ledger(), Options{});
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Code::kNotFound);
  CHECK_THAT(log.error().message, Catch::Contains("no ledger at " + tmp.ledger()));
}

TEST_CASE("create_if_missing creates nested directories and an empty ledger", "[ledger][open]") {
  TempDir tmp;
  std::string dir = tmp.path() + "/a/b/ledger";
  auto log = OpenLog(dir);
  CHECK(std::filesystem::exists(dir + "/CURRENT"));
  CHECK(log->head_seq() == 0);
  CHECK(log->head_hash() == Hash{});
  CHECK(log->dir() == dir);
  CHECK(log->stream_ids().empty());
}

TEST_CASE("a new ledger records format version 2 in meta", "[ledger][open]") {
  TempDir tmp;
  OpenLog(tmp.ledger()).reset();
  auto v = raw::RawGet(tmp.ledger(), "meta", "format_version");
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  CHECK(**v == std::string("\0\0\0\2", 4));
}

TEST_CASE("a ledger with an unknown format version is refused as corrupt, naming both versions",
          "[ledger][open]") {
  for (char version : {'\3', '\0'}) {
    TempDir tmp;
    OpenLog(tmp.ledger()).reset();
    REQUIRE(raw::RawPut(tmp.ledger(), "meta", "format_version", std::string("\0\0\0", 3) + version)
                .ok());
    auto log = Log::Open(tmp.ledger(), Options{});
    REQUIRE_FALSE(log.ok());
    CHECK(log.error().code == Code::kCorruption);
    CHECK_THAT(log.error().message,
               Catch::Contains("has format version " + std::to_string(int(version)) +
                               "; this build reads versions 1 to 2"));
  }
}

TEST_CASE("error_if_exists refuses an existing ledger", "[ledger][open]") {
  TempDir tmp;
  OpenLog(tmp.ledger()).reset();
  Options o = CreateOptions();
  o.error_if_exists = true;
  auto log = Log::Open(tmp.ledger(), o);
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Code::kInvalid);
  CHECK_THAT(log.error().message, Catch::Contains("already exists"));
}

TEST_CASE("a second opener of the same directory is refused with a message naming it",
          "[ledger][open]") {
  TempDir tmp;
  auto first = OpenLog(tmp.ledger());
  auto second = Log::Open(tmp.ledger(), Options{});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == Code::kBusy);
  CHECK_THAT(second.error().message, Catch::Contains(tmp.ledger()));
  CHECK_THAT(second.error().message, Catch::Contains("hourbank serve"));
  CHECK_THAT(second.error().message, Catch::Contains("--server"));
}

TEST_CASE("the directory can be reopened once its first owner closed it", "[ledger][open]") {
  TempDir tmp;
  OpenLog(tmp.ledger()).reset();
  auto again = Log::Open(tmp.ledger(), Options{});
  CHECK(again.ok());
}

TEST_CASE("a ledger held by another process is refused with kBusy", "[ledger][open]") {
  TempDir tmp;
  OpenLog(tmp.ledger()).reset();
  // Start a helper process that opens the ledger and holds it until its stdin closes.
  int to_child[2], from_child[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(from_child) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(to_child[0], 0);
    ::dup2(from_child[1], 1);
    ::close(to_child[1]);
    ::close(from_child[0]);
    std::string dir = tmp.ledger();
    ::execl(LEDGER_LOCK_HOLDER_PATH, "ledger_lock_holder", dir.c_str(), (char*)nullptr);
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  char buf[64] = {};
  ssize_t n = ::read(from_child[0], buf, sizeof(buf) - 1);
  std::string said(buf, n > 0 ? static_cast<size_t>(n) : 0);

  auto log = Log::Open(tmp.ledger(), Options{});

  ::close(to_child[1]);  // let the helper exit
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(from_child[0]);
  REQUIRE_THAT(said, Catch::StartsWith("ready"));
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Code::kBusy);
  CHECK_THAT(log.error().message, Catch::Contains(tmp.ledger()));
  CHECK_THAT(log.error().message, Catch::Contains("--server"));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("client ids follow [a-z0-9][a-z0-9._-]{0,63} with an optional leading $",
          "[ledger][ids]") {
  CHECK(ValidClientId("acme"));
  CHECK(ValidClientId("a"));
  CHECK(ValidClientId("9lives.co_uk-2"));
  CHECK(ValidClientId("$catalog"));
  CHECK(ValidClientId(std::string(64, 'a')));
  CHECK_FALSE(ValidClientId(std::string(65, 'a')));
  CHECK_FALSE(ValidClientId(""));
  CHECK_FALSE(ValidClientId("$"));
  CHECK_FALSE(ValidClientId("Acme"));
  CHECK_FALSE(ValidClientId("-acme"));
  CHECK_FALSE(ValidClientId(".acme"));
  CHECK_FALSE(ValidClientId("ac me"));
  CHECK_FALSE(ValidClientId("$$catalog"));
  CHECK_FALSE(ValidClientId(std::string("ac\0me", 5)));
}

TEST_CASE("the chain hash is BLAKE2b-256 of the previous hash followed by the event bytes",
          "[ledger][hash]") {
  Hash prev{};
  prev[0] = 7;
  std::string bytes = "event bytes";
  std::string joined(reinterpret_cast<const char*>(prev.data()), prev.size());
  joined += bytes;
  CHECK(ChainHash(prev, bytes) == Digest(joined));
  // Known answer: BLAKE2b-256 of the empty string.
  CHECK(HexOf(Digest("")) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST_CASE("DecodeEvent reads a value that is not 8-byte aligned", "[ledger][decode]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"t-1"}));
  auto bytes = log->Get(1);
  REQUIRE(bytes.ok());
  std::string shifted = "x" + *bytes;
  std::string_view misaligned = std::string_view(shifted).substr(1);
  REQUIRE(reinterpret_cast<uintptr_t>(misaligned.data()) % 8 != 0);
  std::string task;
  Status s = DecodeEvent(1, misaligned, [&](schemas::Event::Reader e) {
    task = e.getBody().getWorkLogged().getTask();
  });
  REQUIRE(s.ok());
  CHECK(task == "t-1");
}

TEST_CASE(
    "DecodeEvent reports garbage, truncation and trailing bytes as kCorruption naming the seq",
    "[ledger][decode]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"t-1"}));
  std::string good = *log->Get(1);
  bool called = false;
  auto fn = [&](schemas::Event::Reader) { called = true; };

  Status garbage = DecodeEvent(1, std::string(64, '\xff'), fn);
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().code == Code::kCorruption);
  CHECK(garbage.error().seq == 1);

  Status truncated = DecodeEvent(1, good.substr(0, good.size() - 8), fn);
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().code == Code::kCorruption);

  Status odd = DecodeEvent(1, good.substr(0, good.size() - 3), fn);
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().code == Code::kCorruption);

  Status trailing = DecodeEvent(1, good + std::string(8, '\0'), fn);
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.error().code == Code::kCorruption);

  Status empty = DecodeEvent(1, "", fn);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == Code::kCorruption);
  CHECK_FALSE(called);
}

TEST_CASE("DecodeEvent refuses an event whose seq field differs from the seq it is stored under",
          "[ledger][decode]") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  MustAppend(*log, Request("acme", {"t-1"}));
  Status s = DecodeEvent(2, *log->Get(1), [](schemas::Event::Reader) {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK(s.error().seq == 2);
  CHECK_THAT(s.error().message, Catch::Contains("carries seq 1"));
}

TEST_CASE("create_if_missing never re-initialises a ledger that has events but lost its meta",
          "[ledger][open]") {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.ledger());
    MustAppend(*log, Request("acme", {"a"}));
  }
  REQUIRE(raw::RawDelete(tmp.ledger(), "meta", "format_version").ok());
  auto log = Log::Open(tmp.ledger(), CreateOptions());
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Code::kCorruption);
  auto head = raw::RawGet(tmp.ledger(), "meta", "head_seq");
  REQUIRE(head.ok());
  CHECK(**head == raw::SeqKey(1));
}
