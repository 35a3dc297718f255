// Shared helpers of the ledger tests: temp directories and event drafts.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ledger/log.h"

namespace hourbank::ledger::testing {

// A unique directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/hourbank-ledger-test-XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The ledger lives in a subdirectory, so tests can also check a missing directory.
  std::string ledger() const { return path_ + "/ledger"; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Options CreateOptions() {
  Options o;
  o.create_if_missing = true;
  return o;
}

inline std::unique_ptr<Log> OpenLog(const std::string& dir, Options options = CreateOptions()) {
  auto log = Log::Open(dir, options);
  if (!log.ok()) FAIL("open failed: " << log.error().message);
  return std::move(log).value();
}

// 2025-10-01T00:00:00Z in µs: a plausible business time.
constexpr int64_t kEffectiveUs = 1759276800000000;

inline EventDraft Work(const std::string& task, int64_t minutes = 60) {
  EventDraft d;
  auto r = d.root();
  r.setEffectiveAtUs(kEffectiveUs);
  r.setActor("alice");
  auto w = r.getBody().initWorkLogged();
  w.setKind("support");
  w.setTask(task);
  w.setStaff("bob");
  w.setMinutes(minutes);
  return d;
}

// An append of `tasks.size()` work entries to `client`.
inline AppendRequest Request(const std::string& client, const std::vector<std::string>& tasks,
                             std::string key = "",
                             std::optional<uint32_t> expected = std::nullopt) {
  AppendRequest r;
  r.client_id = client;
  r.idempotency_key = std::move(key);
  r.expected_version = expected;
  for (const auto& t : tasks) r.events.push_back(Work(t));
  return r;
}

inline AppendResult MustAppend(Log& log, AppendRequest request) {
  auto r = log.Append(std::move(request));
  if (!r.ok()) FAIL("append failed: " << r.error().message);
  return *r;
}

// The task of each WorkLogged event a scan visits, in order.
struct Seen {
  std::vector<uint64_t> seqs;
  std::vector<std::string> tasks;
  Visitor visitor() {
    return [this](const EventView& v) {
      seqs.push_back(v.seq);
      tasks.push_back(v.event.getBody().getWorkLogged().getTask());
      return true;
    };
  }
};

// Every event's recordedAtUs, in seq order.
inline std::vector<int64_t> RecordedTimes(const Log& log) {
  std::vector<int64_t> recorded;
  REQUIRE(log.Scan(1, 0,
                   [&](const EventView& v) {
                     recorded.push_back(v.event.getRecordedAtUs());
                     return true;
                   })
              .ok());
  return recorded;
}

}  // namespace hourbank::ledger::testing
