// service/alerts: alerts appended after a write, once; a second writer that decided from a
// stale view of the client (another node, a retry) appends nothing the first one raised.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "service/alerts.h"
#include "service/operations.h"
#include "service/session.h"
#include "tests/service/kit_client.h"

namespace hourbank::service {
namespace {

using schemas::Role;

const Caller kAdmin{"boss", Role::ADMIN};
constexpr int64_t kNowUs = 1773136800000000;  // 2026-03-10T10:00Z

struct Ledger {
  Ledger() {
    std::string tmpl = "/tmp/hourbank-alerts-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    ledger::Options o;
    o.create_if_missing = true;
    o.durability = ledger::Durability::kNoSync;
    auto s = Session::Open(dir + "/ledger", o, kNowUs);
    REQUIRE(s.ok());
    session = std::move(s).value();
  }
  ~Ledger() {
    session.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  std::unique_ptr<Session> session;
};

using testing::KitClient;

Result<LogAnswer> Log(Session& s, int64_t minutes, const std::string& at) {
  return testing::LogKit(s, minutes, at);
}

TEST_CASE("a write that crosses 80 percent appends the alert after its own events") {
  Ledger l;
  KitClient(*l.session);
  REQUIRE(Log(*l.session, 719, "2026-03-09T10:00").ok());  // 719 × 100 < 80 × 900 = 72 000
  CHECK(l.session->LoadClient("k").value().alerts().empty());
  auto w = Log(*l.session, 1, "2026-03-09T12:00");  // 720: 80 %
  REQUIRE(w.ok());
  const auto st = l.session->LoadClient("k").value();
  REQUIRE(st.alerts().size() == 1);
  CHECK(st.alerts()[0].key == "alert:k:allowance_used:80:202603");
  CHECK(st.alerts()[0].seq == w.value().write.result.first_seq + 1);
  bool by_writer = false;  // the alert names whoever's write made it due
  REQUIRE(l.session->log()
              .Scan(st.alerts()[0].seq, st.alerts()[0].seq,
                    [&](const ledger::EventView& v) {
                      by_writer = std::string(v.event.getActor().cStr()) == "boss";
                      return false;
                    })
              .ok());
  CHECK(by_writer);
}

TEST_CASE("a second writer with a stale view appends nothing the first one raised") {
  Ledger l;
  KitClient(*l.session);
  REQUIRE(Log(*l.session, 900, "2026-03-09T10:00").ok());  // 80 % and 100 %
  const uint32_t version = l.session->LoadClient("k").value().version();
  // The client as a node that has not seen the alerts yet would fold it.
  projections::ClientState stale;
  stale.set_id("k");
  REQUIRE(l.session->log()
              .ReadStream("k", 1, 0,
                          [&](const ledger::EventView& v) {
                            if (v.event.getBody().which() != schemas::Event::Body::ALERT_RAISED)
                              stale.Apply(v.seq, v.event);
                            return true;
                          })
              .ok());
  CHECK(projections::DueAlerts(stale, kNowUs).size() == 2);
  auto raised = RaiseDue(*l.session, stale, "node-2");
  REQUIRE(raised.ok());
  CHECK(raised.value().empty());
  CHECK(l.session->LoadClient("k").value().version() == version);
}

TEST_CASE("listing alerts needs the balance role and names an unknown client") {
  Ledger l;
  KitClient(*l.session);
  CHECK(ListAlertsOp(*l.session, {"a", Role::AUDITOR}, {"k", "", Names::kFields}).error().code ==
        Code::kForbidden);
  CHECK(ListAlertsOp(*l.session, {"s", Role::STAFF}, {"k", "", Names::kFields}).ok());
  CHECK(ListAlertsOp(*l.session, kAdmin, {"nobody", "", Names::kFields}).error().code ==
        Code::kNotFound);
  CHECK(ListAlertsOp(*l.session, kAdmin, {"k", "soon", Names::kFlags}).error().code ==
        Code::kInvalid);
}

uint64_t Head(Session& s) { return s.log().head_seq(); }

TEST_CASE("client thresholds need the contract role and a bad value writes nothing") {
  Ledger l;
  KitClient(*l.session);
  Session& s = *l.session;
  AlertSettingsRequest r;
  r.client = "k";
  r.allowance_percent = "50";
  CHECK(SetAlertSettingsOp(s, {"s", Role::STAFF}, r).error().code == Code::kForbidden);
  const uint64_t head = Head(s);
  for (const char* bad : {"0", "80,80", "1001", "half", "", "1,2,3,4,5,6,7,8,9,10,11"}) {
    AlertSettingsRequest b = r;
    b.allowance_percent = bad;
    CHECK(SetAlertSettingsOp(s, kAdmin, b).error().code == Code::kInvalid);
  }
  AlertSettingsRequest days;
  days.client = "k";
  days.block_expiry_days = "367";
  CHECK(SetAlertSettingsOp(s, kAdmin, days).error().code == Code::kInvalid);
  days.block_expiry_days = "7\nx = 1";  // not a number: never reaches the TOML
  CHECK(SetAlertSettingsOp(s, kAdmin, days).error().code == Code::kInvalid);
  AlertSettingsRequest off;
  off.client = "k";
  off.off = "allowance_used,nonsense";
  CHECK(SetAlertSettingsOp(s, kAdmin, off).error().code == Code::kInvalid);
  AlertSettingsRequest none;
  none.client = "k";
  CHECK(SetAlertSettingsOp(s, kAdmin, none).error().code == Code::kInvalid);
  CHECK(Head(s) == head);
  REQUIRE(SetAlertSettingsOp(s, {"m", Role::MANAGER}, r).ok());
  CHECK(Head(s) == head + 1);
  auto view = AlertSettingsOp(s, {"s", Role::STAFF}, "k");
  REQUIRE(view.ok());
  CHECK(view.value().overrides.allowance_percent == std::vector<uint32_t>{50});
  CHECK(view.value().rules.allowance_percent == std::vector<uint32_t>{80, 100});  // the plan's
  CHECK(view.value().plan == "kit-hours-15 v1");
}

TEST_CASE("a write raises at the client's own threshold, not the plan's") {
  Ledger l;
  KitClient(*l.session);
  AlertSettingsRequest r;
  r.client = "k";
  r.allowance_percent = "50";
  REQUIRE(SetAlertSettingsOp(*l.session, kAdmin, r).ok());
  // 450 of 900 included minutes: 45 000 ≥ 50 × 900; under the plan's 80 % (72 000).
  REQUIRE(Log(*l.session, 450, "2026-03-09T10:00").ok());
  auto alerts = ListAlertsOp(*l.session, kAdmin, {"k", "", Names::kFields});
  REQUIRE(alerts.ok());
  REQUIRE(alerts.value().size() == 1);
  REQUIRE(alerts.value()[0].alerts.size() == 1);
  CHECK(alerts.value()[0].alerts[0].key == "alert:k:allowance_used:50:202603");
}

// Not an alert: the write path of `log` (service/operations.cc), which decides on the lean
// state and answers from it, with the same KIT client set up from February.
TEST_CASE("logging work answers with the new entry, and a retry after its month closed too") {
  Ledger l;
  Session& s = *l.session;
  KitClient(s, "2026-02");
  LogRequest r;
  r.client = "k";
  r.work.kind = "support";
  r.work.minutes = 90;
  r.work.task = "T-1";
  r.work.staff = "anna";
  r.at = "2026-02-09T10:00";
  r.key = "k-1";
  auto first = LogWorkOp(s, kAdmin, r);
  REQUIRE(first.ok());
  CHECK_FALSE(first.value().write.replayed);
  const uint64_t seq = first.value().write.result.first_seq;
  const projections::Entry* e = first.value().state.FindEntry(seq);
  REQUIRE(e != nullptr);
  CHECK(e->minutes == 90);
  REQUIRE(CloseOp(s, kAdmin, {"k", "2026-02"}).ok());
  // February is closed now: a lean state no longer keeps its entries, the answer to the retry
  // still names the entry.
  auto again = LogWorkOp(s, kAdmin, r);
  REQUIRE(again.ok());
  CHECK(again.value().write.replayed);
  CHECK(again.value().write.result.first_seq == seq);
  const projections::Entry* e2 = again.value().state.FindEntry(seq);
  REQUIRE(e2 != nullptr);
  CHECK(e2->minutes == 90);
}

}  // namespace
}  // namespace hourbank::service
