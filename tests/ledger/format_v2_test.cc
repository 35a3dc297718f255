// Format version 2: one streams record per append request (a run of versions), beside
// format 1 (one record per event), which this build still reads and writes as format 1.
#include <map>

#include "ledger/format.h"
#include "ledger/raw.h"
#include "test_util.h"

using namespace hourbank;
using namespace hourbank::ledger;
using namespace hourbank::ledger::testing;

namespace {

Options WithFormat(uint32_t version) {
  Options o = CreateOptions();
  o.format_version = version;
  return o;
}

uint32_t StoredFormatVersion(const std::string& dir) {
  auto v = raw::RawGet(dir, "meta", "format_version");
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  REQUIRE((*v)->size() == 4);
  return static_cast<uint32_t>(format::ReadBE(**v, 4));
}

// Every (key, value) of the streams column family.
std::map<std::string, std::string> StreamRecords(const std::string& dir) {
  auto keys = raw::RawKeys(dir, "streams");
  REQUIRE(keys.ok());
  std::map<std::string, std::string> out;
  for (const std::string& k : *keys) {
    auto v = raw::RawGet(dir, "streams", k);
    REQUIRE(v.ok());
    REQUIRE(v->has_value());
    out[k] = **v;
  }
  return out;
}

// The appends both ledgers of the comparison get: two clients interleaved, requests of 1 and
// of several events (one longer than a stream read's chunk of 256 events), each recorded at
// its own fixed time so the two ledgers hold the same recordedAtUs.
struct Step {
  std::string client;
  int events;
};
const std::vector<Step>& Steps() {
  static const std::vector<Step> steps = {
      {"acme", 1}, {"beta", 3}, {"acme", 4},   {"acme", 1}, {"beta", 1}, {"acme", 2},
      {"beta", 5}, {"acme", 1}, {"beta", 300}, {"acme", 3}, {"beta", 1}, {"acme", 6}};
  return steps;
}
constexpr int64_t kRecordedUs = 1'800'000'000'000'000;
int64_t RecordedAt(size_t step) { return kRecordedUs + int64_t(step) * 1000; }

// What a stream holds by version: the seq and recordedAtUs of each version.
struct Model {
  std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>> streams;
};

Model BuildLedger(const std::string& dir, uint32_t format_version) {
  Model m;
  auto log = OpenLog(dir, WithFormat(format_version));
  for (size_t i = 0; i < Steps().size(); ++i) {
    const Step& s = Steps()[i];
    std::vector<std::string> tasks;
    for (int e = 0; e < s.events; ++e) tasks.push_back(s.client + "-" + std::to_string(i) + "-" +
                                                       std::to_string(e));
    AppendRequest r = Request(s.client, tasks);
    r.recorded_at_us = RecordedAt(i);
    AppendResult res = MustAppend(*log, std::move(r));
    for (int e = 0; e < s.events; ++e)
      m.streams[s.client].emplace_back(res.first_seq + uint64_t(e), RecordedAt(i));
    REQUIRE(res.stream_version == m.streams[s.client].size());
  }
  return m;
}

// The seqs ReadStream should visit, from the model.
std::vector<uint64_t> Expected(const Model& m, const std::string& client, uint32_t from,
                               uint32_t to, uint64_t as_of, int64_t known_at) {
  std::vector<uint64_t> out;
  const auto& s = m.streams.at(client);
  const uint32_t last = to == 0 ? uint32_t(s.size()) : std::min<uint32_t>(to, uint32_t(s.size()));
  for (uint32_t v = std::max<uint32_t>(from, 1); v <= last; ++v) {
    const auto [seq, recorded] = s[v - 1];
    if ((as_of != 0 && seq > as_of) || (known_at != 0 && recorded > known_at)) break;
    out.push_back(seq);
  }
  return out;
}

std::vector<uint64_t> Read(const Log& log, const std::string& client, uint32_t from, uint32_t to,
                           uint64_t as_of, int64_t known_at, std::vector<std::string>* tasks) {
  Seen seen;
  ReadOptions ro;
  ro.as_of_seq = as_of;
  ro.known_at_us = known_at;
  Status s = log.ReadStream(client, from, to, seen.visitor(), ro);
  if (!s.ok()) FAIL("ReadStream failed: " << s.error().message);
  if (tasks != nullptr) *tasks = seen.tasks;
  return seen.seqs;
}

// Acme and beta interleaved; records (format 2):
//   acme@1 -> 1..3, beta@1 -> 4, acme@4 -> 5..6, beta@2 -> 7..8, acme@6 -> 9. Head 9.
void NineEvents(const std::string& dir, uint32_t format_version = 0) {
  auto log = OpenLog(dir, WithFormat(format_version));
  MustAppend(*log, Request("acme", {"a1", "a2", "a3"}));
  MustAppend(*log, Request("beta", {"b1"}));
  MustAppend(*log, Request("acme", {"a4", "a5"}));
  MustAppend(*log, Request("beta", {"b2", "b3"}));
  MustAppend(*log, Request("acme", {"a6"}));
}

std::string Run12(uint64_t first_seq, uint32_t count) {
  std::string v;
  format::AppendFixed64BE(&v, first_seq);
  format::AppendFixed32BE(&v, count);
  return v;
}

}  // namespace

TEST_CASE("streams values parse as a run of 1 (8 bytes) or of count >= 2 (12 bytes) only",
          "[ledger][format]") {
  auto one = format::ParseStreamValue(format::StreamValue(7, 1));
  REQUIRE(one);
  CHECK(one->first_seq == 7);
  CHECK(one->count == 1);
  CHECK(format::StreamValue(7, 1).size() == 8);
  auto run = format::ParseStreamValue(format::StreamValue(7, 1000));
  REQUIRE(run);
  CHECK(run->first_seq == 7);
  CHECK(run->count == 1000);
  CHECK(run->last_seq() == 1006);
  CHECK(format::StreamValue(7, 1000).size() == 12);

  CHECK_FALSE(format::ParseStreamValue(Run12(7, 0)));  // count 0
  CHECK_FALSE(format::ParseStreamValue(Run12(7, 1)));  // a run of 1 has the 8-byte form
  CHECK_FALSE(format::ParseStreamValue(format::Fixed64(0)));  // seqs start at 1
  CHECK_FALSE(format::ParseStreamValue(Run12(UINT64_MAX - 1, 3)));  // last seq overflows
  CHECK(format::ParseStreamValue(Run12(UINT64_MAX - 1, 2)));
  for (size_t n : std::vector<size_t>{0, 1, 4, 7, 9, 11, 13, 16, 44}) {
    INFO(n << " bytes");
    CHECK_FALSE(format::ParseStreamValue(std::string(n, '\x01')));
  }
  // A run whose last version does not fit in 32 bits.
  CHECK_FALSE(format::ParseStreamEntry(format::StreamKey("acme", UINT32_MAX), Run12(1, 2)));
  CHECK(format::ParseStreamEntry(format::StreamKey("acme", UINT32_MAX - 1), Run12(1, 2)));
  CHECK_FALSE(format::ParseStreamEntry(format::StreamKey("acme", 0), format::StreamValue(1, 1)));
}

TEST_CASE("a new ledger is format 2 and a 1000-event append writes exactly one streams record",
          "[ledger][format]") {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.ledger());
    std::vector<std::string> tasks;
    for (int i = 0; i < 1000; ++i) tasks.push_back("t" + std::to_string(i));
    AppendResult r = MustAppend(*log, Request("acme", tasks));
    CHECK(r.first_seq == 1);
    CHECK(r.stream_version == 1000);
  }
  CHECK(StoredFormatVersion(tmp.ledger()) == 2);
  auto records = StreamRecords(tmp.ledger());
  REQUIRE(records.size() == 1);
  CHECK(records.begin()->first == format::StreamKey("acme", 1));
  CHECK(records.begin()->second == format::StreamValue(1, 1000));

  auto log = OpenLog(tmp.ledger(), Options{});
  CHECK(log->StreamVersion("acme").value() == 1000);
  Seen seen;
  REQUIRE(log->ReadStream("acme", 998, 0, seen.visitor()).ok());
  CHECK(seen.seqs == std::vector<uint64_t>{998, 999, 1000});
  CHECK(log->Verify().value().ok);
}

TEST_CASE("a single-event append on format 2 writes the 8-byte record of format 1",
          "[ledger][format]") {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.ledger());
    MustAppend(*log, Request("acme", {"a"}));
    MustAppend(*log, Request("acme", {"b", "c"}));
  }
  auto records = StreamRecords(tmp.ledger());
  REQUIRE(records.size() == 2);
  CHECK(records[format::StreamKey("acme", 1)] == format::StreamValue(1, 1));
  CHECK(records[format::StreamKey("acme", 1)].size() == 8);
  CHECK(records[format::StreamKey("acme", 2)] == format::StreamValue(2, 2));
}

TEST_CASE("reading a stream gives the same events, versions and seqs on format 1 and format 2",
          "[ledger][format][read]") {
  TempDir t1, t2;
  const Model m1 = BuildLedger(t1.ledger(), 1);
  const Model m2 = BuildLedger(t2.ledger(), 2);
  REQUIRE(m1.streams == m2.streams);
  CHECK(StoredFormatVersion(t1.ledger()) == 1);
  CHECK(StoredFormatVersion(t2.ledger()) == 2);
  // Format 1: one record per event; format 2: one per request.
  CHECK(raw::RawKeys(t1.ledger(), "streams").value().size() ==
        m1.streams.at("acme").size() + m1.streams.at("beta").size());
  CHECK(raw::RawKeys(t2.ledger(), "streams").value().size() == Steps().size());

  auto v1 = OpenLog(t1.ledger(), Options{});
  auto v2 = OpenLog(t2.ledger(), Options{});
  for (const std::string& client : std::vector<std::string>{"acme", "beta"}) {
    const auto n = uint32_t(m1.streams.at(client).size());
    CHECK(v1->StreamVersion(client).value() == n);
    CHECK(v2->StreamVersion(client).value() == n);
    // Every range, starting and ending anywhere (inside records too), and past the end.
    for (uint32_t from = 0; from <= n + 1; ++from) {
      for (uint32_t to : std::vector<uint32_t>{0, from, from + 1, from + 2, from + 7, n, n + 1}) {
        if (client == "beta" && n > 40 && from > 20 && from < n - 20 && to != 0 &&
            to != n)
          continue;  // the middle of the 300-event run: covered by the ends
        INFO(client << " versions " << from << ".." << to);
        std::vector<std::string> tasks1, tasks2;
        const auto want = Expected(m1, client, from, to, 0, 0);
        CHECK(Read(*v1, client, from, to, 0, 0, &tasks1) == want);
        CHECK(Read(*v2, client, from, to, 0, 0, &tasks2) == want);
        CHECK(tasks1 == tasks2);
      }
    }
    // as_of_seq cuts at every seq (inside records too), and known_at_us at each request.
    const uint64_t head = v1->head_seq();
    REQUIRE(head == v2->head_seq());
    for (uint64_t as_of = 1; as_of <= head; as_of += (as_of > 20 && as_of < head - 20) ? 37 : 1) {
      for (uint32_t from : {1u, 2u, 5u, 9u}) {
        INFO(client << " from " << from << " as of seq " << as_of);
        const auto want = Expected(m1, client, from, 0, as_of, 0);
        CHECK(Read(*v1, client, from, 0, as_of, 0, nullptr) == want);
        CHECK(Read(*v2, client, from, 0, as_of, 0, nullptr) == want);
      }
    }
    for (size_t step = 0; step < Steps().size(); ++step) {
      for (int64_t known_at : {RecordedAt(step), RecordedAt(step) + 1}) {
        INFO(client << " known at step " << step);
        const auto want = Expected(m1, client, 2, 0, 0, known_at);
        CHECK(Read(*v1, client, 2, 0, 0, known_at, nullptr) == want);
        CHECK(Read(*v2, client, 2, 0, 0, known_at, nullptr) == want);
      }
    }
  }
  CHECK(v1->Verify().value().ok);
  CHECK(v2->Verify().value().ok);
}

TEST_CASE("an idempotent replay of a multi-event request on format 2 returns its original "
          "versions",
          "[ledger][format][append]") {
  for (uint32_t format_version : {1u, 2u}) {
    INFO("format " << format_version);
    TempDir tmp;
    AppendResult first;
    {
      auto log = OpenLog(tmp.ledger(), WithFormat(format_version));
      MustAppend(*log, Request("acme", {"a1", "a2"}));
      MustAppend(*log, Request("beta", {"b1", "b2", "b3"}));
      first = MustAppend(*log, Request("acme", {"a3", "a4", "a5", "a6"}, "k-1"));
      MustAppend(*log, Request("acme", {"a7"}));
      MustAppend(*log, Request("beta", {"b4"}));
      MustAppend(*log, Request("acme", {"a8", "a9"}));
    }
    CHECK(first.first_seq == 6);
    CHECK(first.stream_version == 6);
    // After a reopen: the version comes from the index, not from the writer's cache.
    auto log = OpenLog(tmp.ledger(), Options{});
    AppendResult again = MustAppend(*log, Request("acme", {"a3", "a4", "a5", "a6"}, "k-1"));
    CHECK(again.replayed);
    CHECK(again.first_seq == first.first_seq);
    CHECK(again.count == 4);
    CHECK(again.stream_version == first.stream_version);
    CHECK(log->StreamVersion("acme").value() == 9);
    // The same key on another stream is still "used by another stream".
    auto other = log->Append(Request("beta", {"a3", "a4", "a5", "a6"}, "k-1"));
    REQUIRE_FALSE(other.ok());
    CHECK(other.error().code == Code::kConflict);
  }
}

TEST_CASE("a format 1 ledger stays format 1 after appends by this build, one record per event",
          "[ledger][format]") {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.ledger(), WithFormat(1));
    MustAppend(*log, Request("acme", {"a1", "a2", "a3"}));
  }
  CHECK(StoredFormatVersion(tmp.ledger()) == 1);
  {
    auto log = OpenLog(tmp.ledger(), CreateOptions());  // this build's defaults
    MustAppend(*log, Request("beta", {"b1", "b2"}));
    MustAppend(*log, Request("acme", {"a4", "a5", "a6", "a7"}, "k"));
    CHECK(log->StreamVersion("acme").value() == 7);
    CHECK(log->Verify().value().ok);
  }
  CHECK(StoredFormatVersion(tmp.ledger()) == 1);
  auto records = StreamRecords(tmp.ledger());
  CHECK(records.size() == 9);
  for (const auto& [key, value] : records) {
    INFO(key.size() << "-byte key");
    CHECK(value.size() == 8);
  }
  CHECK(records[format::StreamKey("acme", 5)] == format::Fixed64(7));
  CHECK(records[format::StreamKey("beta", 2)] == format::Fixed64(5));
}

TEST_CASE("a ledger can only be made in a format this build writes", "[ledger][format]") {
  TempDir tmp;
  auto log = Log::Open(tmp.ledger(), WithFormat(3));
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Code::kInvalid);
  CHECK_THAT(log.error().message, Catch::Contains("format_version 3"));
  CHECK_FALSE(std::filesystem::exists(tmp.ledger()));
}

TEST_CASE("a format 1 ledger holding a multi-version record fails Verify", "[ledger][format]") {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.ledger(), WithFormat(1));
    MustAppend(*log, Request("acme", {"a1", "a2", "a3"}));
  }
  // What a format 2 writer would have written: one record for the request.
  REQUIRE(raw::RawDelete(tmp.ledger(), "streams", format::StreamKey("acme", 2)).ok());
  REQUIRE(raw::RawDelete(tmp.ledger(), "streams", format::StreamKey("acme", 3)).ok());
  REQUIRE(raw::RawPut(tmp.ledger(), "streams", format::StreamKey("acme", 1), Run12(1, 3)).ok());
  auto log = OpenLog(tmp.ledger(), Options{});
  auto v = log->Verify();
  REQUIRE(v.ok());
  CHECK_FALSE(v->ok);
  CHECK(v->first_bad_seq == 1);
  CHECK_THAT(v->problem, Catch::Contains("format 1 ledger does not hold"));
}

// One damaged acme record of NineEvents: `value` replaces the record at `version` (nullopt:
// deletes it); what a read of acme says; whether acme's last record (StreamVersion) is damaged.
struct Damage {
  const char* what;
  uint32_t version;
  std::optional<std::string> value;
  const char* read_says;
  bool last_record_damaged;
};

TEST_CASE("each kind of damaged streams record is named by Verify and is kCorruption for a read",
          "[ledger][format][verify][corruption]") {
  const std::vector<Damage> damages = {
      {"a 12-byte record with count 0", 6, Run12(9, 0), "malformed", true},
      {"a 12-byte record with count 1", 6, Run12(9, 1), "malformed", true},
      {"a record of 10 bytes", 6, "0123456789", "malformed", true},
      {"a record of 4 bytes", 4, "abcd", "malformed", false},
      {"a count running past the head", 6, Run12(9, 2), "past the head", false},
      {"a count of 2^32 - 1", 1, Run12(1, UINT32_MAX), "past the head", false},
      // acme@1 holds versions 1..3: a record of version 3 alone (its right seq) overlaps it.
      {"two records that overlap", 3, format::StreamValue(3, 1), "records overlap", false},
      {"a record that overlaps the next one", 1, format::StreamValue(1, 4), "records overlap",
       false},
      {"a record removed (a gap)", 4, std::nullopt, "misses version 4", false},
  };
  for (const Damage& d : damages) {
    INFO(d.what);
    TempDir tmp;
    NineEvents(tmp.ledger());
    auto records = StreamRecords(tmp.ledger());
    REQUIRE(records.size() == 5);
    REQUIRE(records[format::StreamKey("acme", 1)] == format::StreamValue(1, 3));
    REQUIRE(records[format::StreamKey("acme", 4)] == format::StreamValue(5, 2));
    REQUIRE(records[format::StreamKey("acme", 6)] == format::StreamValue(9, 1));
    const std::string key = format::StreamKey("acme", d.version);
    REQUIRE((d.value ? raw::RawPut(tmp.ledger(), "streams", key, *d.value)
                     : raw::RawDelete(tmp.ledger(), "streams", key))
                .ok());

    auto log = OpenLog(tmp.ledger(), Options{});
    auto v = log->Verify();
    REQUIRE(v.ok());
    CHECK_FALSE(v->ok);
    INFO("verify: " << v->problem);
    CHECK_THAT(v->problem, Catch::Contains("streams index"));
    CHECK(v->first_bad_seq != 0);

    Seen seen;
    Status s = log->ReadStream("acme", 1, 0, seen.visitor());
    REQUIRE_FALSE(s.ok());
    INFO("read: " << s.error().message);
    CHECK(s.error().code == Code::kCorruption);
    CHECK_THAT(s.error().message, Catch::Contains(d.read_says));
    // Beta's records are intact and still read.
    Seen beta;
    REQUIRE(log->ReadStream("beta", 1, 0, beta.visitor()).ok());
    CHECK(beta.seqs == std::vector<uint64_t>{4, 7, 8});
    auto version = log->StreamVersion("acme");
    if (d.last_record_damaged) {
      REQUIRE_FALSE(version.ok());
      CHECK(version.error().code == Code::kCorruption);
    } else {
      CHECK(version.ok());
    }
  }
}

TEST_CASE("Verify finds records that tile a stream but map versions to the wrong seqs",
          "[ledger][format][verify]") {
  TempDir tmp;
  NineEvents(tmp.ledger());
  // acme@4 -> 5..6 moved onto beta's 7..8: versions still tile, seqs do not match the events.
  REQUIRE(raw::RawPut(tmp.ledger(), "streams", format::StreamKey("acme", 4),
                      format::StreamValue(7, 2))
              .ok());
  auto log = OpenLog(tmp.ledger(), Options{});
  auto v = log->Verify();
  REQUIRE(v.ok());
  CHECK_FALSE(v->ok);
  CHECK(v->first_bad_seq == 5);
  CHECK_THAT(v->problem, Catch::Contains("acme version 4 should point at event 5 but points at 7"));
  Seen seen;
  Status s = log->ReadStream("acme", 4, 0, seen.visitor());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kCorruption);
  CHECK_THAT(s.error().message, Catch::Contains("belongs to 'beta'"));
}
