// RocksDB's info LOG as hourbank writes it (ledger/info_log.h): a line that cannot be written
// is dropped and counted, never aborting the process (RocksDB's own logger asserted on the
// second line after a failed write, which crashed a ledger on a full disk).
#include <sys/stat.h>

#include <cstdarg>

#include <fstream>
#include <iterator>

#include <rocksdb/env.h>

#include "ledger/info_log.h"
#include "test_util.h"

using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;
namespace fs = std::filesystem;

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t CountRotated(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("LOG.old.", 0) == 0) ++n;
  return n;
}

// One line at INFO level through the logger, as RocksDB's Log() would send it.
__attribute__((format(printf, 2, 3))) void Say(InfoLog& log, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  log.Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  va_end(ap);
}

}  // namespace

TEST_CASE("lines the device refuses (no space left) are dropped and counted, the process goes on",
          "[ledger][infolog]") {
  // /dev/full accepts the open and fails every write with ENOSPC: the disk-full case.
  InfoLog log("/dev/full");
  for (int i = 0; i < 3; ++i) {
    Say(log, "line %d of a full disk", i);
  }
  CHECK(log.dropped() == 3);
  CHECK(log.GetLogFileSize() == 0);
}

TEST_CASE("once lines can be written again, the first one says how many were lost and why",
          "[ledger][infolog]") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/later";
  InfoLog log(dir + "/LOG");  // the directory does not exist yet: nothing can be written
  Say(log, "lost %s", "one");
  Say(log, "lost %s", "two");
  CHECK(log.dropped() == 2);
  fs::create_directory(dir);
  Say(log, "written %d", 3);
  CHECK(log.dropped() == 0);
  const std::string text = ReadAll(dir + "/LOG");
  const size_t note = text.find("[hourbank] 2 info log line(s) not written: No such file");
  const size_t line = text.find("written 3\n");
  REQUIRE(note != std::string::npos);
  REQUIRE(line != std::string::npos);
  CHECK(note < line);
  CHECK(text.find("lost") == std::string::npos);
}

TEST_CASE("the info log is private (0600), appended to, and each line is stamped and ended",
          "[ledger][infolog]") {
  TempDir tmp;
  const std::string path = tmp.path() + "/LOG";
  { std::ofstream(path) << "earlier\n"; }
  ::chmod(path.c_str(), 0600);
  {
    InfoLog log(path);
    Say(log, "%s=%d", "answer", 42);
  }
  const std::string text = ReadAll(path);
  CHECK(text.rfind("earlier\n", 0) == 0);  // not truncated, not rotated at open
  // "YYYY/MM/DD-hh:mm:ss.uuuuuu tid answer=42\n"
  const std::string second = text.substr(8);
  REQUIRE(second.size() > 28);
  CHECK(second[4] == '/');
  CHECK(second[10] == '-');
  CHECK(second[19] == '.');
  CHECK(second.find(" answer=42\n") != std::string::npos);
  CHECK(second.back() == '\n');

  const std::string fresh = tmp.path() + "/fresh/LOG";
  fs::create_directory(tmp.path() + "/fresh");
  { InfoLog log(fresh); }
  struct stat st {};
  REQUIRE(::stat(fresh.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a very long message is cut to 64 KiB, not written whole or refused",
          "[ledger][infolog]") {
  TempDir tmp;
  const std::string path = tmp.path() + "/LOG";
  const std::string big(200000, 'z');
  {
    InfoLog log(path);
    Say(log, "%s", big.c_str());
  }
  const std::string text = ReadAll(path);
  CHECK(text.size() < 64 * 1024 + 100);
  CHECK(text.size() > 64 * 1024);
  CHECK(text.back() == '\n');
}

TEST_CASE("past its size bound the log is renamed aside and at most four old files are kept",
          "[ledger][infolog]") {
  TempDir tmp;
  const std::string path = tmp.path() + "/LOG";
  const std::string text(100, 'r');
  {
    InfoLog log(path, /*bytes_max=*/1000);
    for (int i = 0; i < 200; ++i) Say(log, "%s", text.c_str());
    CHECK(log.dropped() == 0);
  }
  CHECK(CountRotated(tmp.path()) >= 1);
  CHECK(CountRotated(tmp.path()) <= kInfoLogFilesKept);
  CHECK(fs::file_size(path) < 1000 + 200);  // at most one line past the bound
}

TEST_CASE("a ledger opened for writing logs RocksDB's messages through it into its LOG",
          "[ledger][infolog]") {
  TempDir tmp;
  { auto log = OpenLog(tmp.ledger()); }
  const std::string text = ReadAll(tmp.ledger() + "/LOG");
  CHECK(text.find("RocksDB version") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((tmp.ledger() + "/LOG").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // A second open appends; it does not rotate (a failed second opener must not move the
  // owner's log).
  { auto log = OpenLog(tmp.ledger()); }
  CHECK(CountRotated(tmp.ledger()) == 0);
  CHECK(ReadAll(tmp.ledger() + "/LOG").size() > text.size());
}
