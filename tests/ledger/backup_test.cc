// Backups of the embedded ledger (ledger/backup.h, issue 16 part 4): online under concurrent
// appends, incremental, verified; a damaged backup is refused and nothing is restored.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ledger/backup.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;
using hourbank::Code;

namespace {

// Appends `n` one-event batches to `client`; the head afterwards.
uint64_t AppendMany(Log& log, const std::string& client, int n) {
  uint64_t head = 0;
  for (int i = 0; i < n; ++i) {
    const AppendResult r = MustAppend(log, Request(client, {"T-" + std::to_string(i)}));
    head = r.first_seq + r.count - 1;
  }
  return head;
}

// A ledger whose events are in table files (a reopen flushes the replayed WAL into one), so a
// backup has shared files to copy or to reuse.
void AppendAndReopen(std::unique_ptr<Log>& log, const std::string& dir, const std::string& client,
                     int n) {
  AppendMany(*log, client, n);
  log.reset();
  log = OpenLog(dir);
}

uint64_t BytesUnder(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

std::vector<fs::path> SstFiles(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".sst") out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE(
    "a backup taken while another thread appends restores every event acknowledged before it "
    "started, byte for byte, and the restored chain verifies") {
  TempDir tmp;
  auto log = OpenLog(tmp.ledger());
  AppendAndReopen(log, tmp.ledger(), "acme", 50);        // some in table files
  const uint64_t acked = AppendMany(*log, "acme", 150);  // and some only in the WAL
  REQUIRE(acked == 200);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> appended_during{0};
  std::thread writer([&] {
    while (!stop) {
      MustAppend(*log, Request("beta", {"W"}));
      ++appended_during;
    }
  });
  auto backup = BackupLedger(tmp.ledger(), tmp.path() + "/backups");
  // The writer keeps going until the backup is done, then for a few more appends at least.
  const uint64_t during_at_end = appended_during.load();
  while (appended_during.load() < during_at_end + 5) std::this_thread::yield();
  stop = true;
  writer.join();
  REQUIRE(backup.ok());
  CHECK(backup.value().id == 1);
  CHECK(backup.value().head_seq >= acked);

  auto restored = RestoreLedger(tmp.path() + "/backups", tmp.path() + "/restored");
  REQUIRE(restored.ok());
  CHECK(restored.value().head_seq >= acked);
  auto copy = OpenLog(tmp.path() + "/restored", Options{});
  REQUIRE(copy->head_seq() == restored.value().head_seq);
  for (uint64_t seq = 1; seq <= copy->head_seq(); ++seq) {
    auto a = log->Get(seq);
    auto b = copy->Get(seq);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(a.value() == b.value());
  }
  auto report = copy->Verify();
  REQUIRE(report.ok());
  CHECK(report.value().ok);
  CHECK(fs::status(tmp.path() + "/restored").permissions() == fs::perms::owner_all);
}

TEST_CASE(
    "a second backup copies only the table files that are new, and each restores to its own head") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/backups";
  auto log = OpenLog(tmp.ledger());
  AppendAndReopen(log, tmp.ledger(), "acme", 400);
  auto first = BackupLedger(tmp.ledger(), dir);
  REQUIRE(first.ok());
  CHECK(first.value().head_seq == 400);
  const uint64_t after_first = BytesUnder(dir);

  AppendAndReopen(log, tmp.ledger(), "acme", 10);
  auto second = BackupLedger(tmp.ledger(), dir);
  REQUIRE(second.ok());
  CHECK(second.value().id == 2);
  CHECK(second.value().head_seq == 410);
  // The second backup's files are as large as the first's (it holds all 410 events), yet the
  // directory grew by less than half of that: the first 400 events' table file was not copied
  // again.
  CHECK(second.value().size_bytes > first.value().size_bytes);
  CHECK(BytesUnder(dir) - after_first < second.value().size_bytes / 2);

  auto list = ListBackups(dir);
  REQUIRE(list.ok());
  REQUIRE(list.value().size() == 2);
  CHECK(list.value()[0].id == 1);
  CHECK(list.value()[1].id == 2);

  auto old = RestoreLedger(dir, tmp.path() + "/old", 1);
  REQUIRE(old.ok());
  CHECK(old.value().head_seq == 400);
  auto latest = RestoreLedger(dir, tmp.path() + "/latest");
  REQUIRE(latest.ok());
  CHECK(latest.value().head_seq == 410);
  auto missing = RestoreLedger(dir, tmp.path() + "/nope", 7);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Code::kNotFound);
  CHECK_FALSE(fs::exists(tmp.path() + "/nope"));
}

TEST_CASE("a backup with a flipped byte in a table file is refused and nothing is restored") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/backups";
  auto log = OpenLog(tmp.ledger());
  AppendAndReopen(log, tmp.ledger(), "acme", 100);
  REQUIRE(BackupLedger(tmp.ledger(), dir).ok());
  const std::vector<fs::path> ssts = SstFiles(dir);
  REQUIRE_FALSE(ssts.empty());
  {
    std::fstream f(ssts.front(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    char c = 0;
    f.get(c);
    f.seekp(100);
    f.put(char(c ^ 0x5a));
  }
  auto restored = RestoreLedger(dir, tmp.path() + "/restored");
  REQUIRE_FALSE(restored.ok());
  CHECK(restored.error().code == Code::kCorruption);
  CHECK(restored.error().message.find("damaged") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path() + "/restored"));
}

TEST_CASE("a restore refuses a target directory that is not empty and leaves it as it was") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/backups";
  auto log = OpenLog(tmp.ledger());
  AppendMany(*log, "acme", 3);
  REQUIRE(BackupLedger(tmp.ledger(), dir).ok());
  fs::create_directories(tmp.path() + "/busy");
  std::ofstream(tmp.path() + "/busy/notes.txt") << "mine";
  auto restored = RestoreLedger(dir, tmp.path() + "/busy");
  REQUIRE_FALSE(restored.ok());
  CHECK(restored.error().code == Code::kInvalid);
  CHECK(fs::directory_entry(tmp.path() + "/busy/notes.txt").file_size() == 4);
  CHECK(std::distance(fs::directory_iterator(tmp.path() + "/busy"), fs::directory_iterator()) == 1);
}

TEST_CASE("a backup of a directory that holds no ledger is refused and lists nothing") {
  TempDir tmp;
  fs::create_directories(tmp.path() + "/empty");
  auto b = BackupLedger(tmp.path() + "/empty", tmp.path() + "/backups");
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().code == Code::kNotFound);
  auto list = ListBackups(tmp.path() + "/backups");
  REQUIRE_FALSE(list.ok());
  CHECK(list.error().code == Code::kNotFound);
}
