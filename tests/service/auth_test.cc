// service/auth: the client role (issue 17.5): a token scoped to one client, read-only, its own
// data only. The scope check (RequireFor) is the one every transport's client read goes through
// (ReadClientOp), so these cases hold for HTTP, RPC and the portal alike.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "service/auth.h"
#include "service/operations.h"
#include "service/session.h"
#include "tests/service/temp_ledger.h"

namespace hourbank::service {
namespace {

using schemas::Role;

constexpr int64_t kNow = 1773136800000000;  // 2026-03-10T10:00Z, the sessions' "now"
const Caller kBoss{"boss", Role::ADMIN};
const Caller kAcme{"acme-portal", Role::CLIENT, "acme"};

void Register(Session& s, const std::string& id) {
  REQUIRE(AddClientOp(s, kBoss, {id, id, "RUB", "Europe/Moscow"}).ok());
}

// The client role's reads: what the portal shows (docs/api.md "Authentication and roles").
const std::vector<Operation> kOwnReads{Operation::kReadBalance, Operation::kReadInvoice,
                                       Operation::kReadBurned,  Operation::kReadReport,
                                       Operation::kReadSla,     Operation::kReadForecast,
                                       Operation::kPortal};

TEST_CASE("A client token may read its own balance, invoices, reports, forecast and portal") {
  for (Operation op : kOwnReads) {
    CAPTURE(OperationName(op));
    CHECK(Allowed(Role::CLIENT, op));
    CHECK(RequireFor(kAcme, op, "acme").ok());
  }
}

TEST_CASE("A client token reading another client is forbidden, whether it exists or not") {
  for (const char* other : {"beta", "no-such-client", "", "$auth", "ACME", "acme "}) {
    Status s = RequireFor(kAcme, Operation::kReadBalance, other);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == Code::kForbidden);
    CHECK(s.error().message == "the token 'acme-portal' (client) may read only the client 'acme'");
  }
}

TEST_CASE("A client token may not list clients or plans, read events, replay plans or write") {
  for (int op = int(Operation::kListClients); op <= int(Operation::kPortal); ++op) {
    const Operation o = Operation(op);
    bool own_read = false;
    for (Operation r : kOwnReads) own_read = own_read || r == o;
    if (own_read) continue;
    CAPTURE(OperationName(o));
    CHECK_FALSE(Allowed(Role::CLIENT, o));
    Status s = RequireFor(kAcme, o, "acme");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == Code::kForbidden);
  }
}

TEST_CASE("Other roles are not scoped: staff reads any client's balance, admin reads any report") {
  CHECK(RequireFor({"anna", Role::STAFF, ""}, Operation::kReadBalance, "beta").ok());
  CHECK(RequireFor(kBoss, Operation::kReadReport, "anything").ok());
  CHECK(RequireFor({"mia", Role::MANAGER, ""}, Operation::kWhatIf, "beta").ok());
}

TEST_CASE("The portal is a client token's page only: admin and manager are refused") {
  CHECK_FALSE(Allowed(Role::ADMIN, Operation::kPortal));
  CHECK_FALSE(Allowed(Role::MANAGER, Operation::kPortal));
  CHECK_FALSE(Allowed(Role::STAFF, Operation::kPortal));
  CHECK(Allowed(Role::ADMIN, Operation::kReadForecast));
}

TEST_CASE("A client token is issued for a registered client and authenticates with its scope") {
  TempLedger t;
  Register(t.session(), "acme");
  auto secret = IssueToken(t.session().log(), "acme-portal", Role::CLIENT, "boss", kNow, "acme");
  REQUIRE(secret.ok());
  Authenticator auth(t.session().log());
  auto who = auth.Bearer("Bearer " + secret.value());
  REQUIRE(who.ok());
  CHECK(who.value().role == Role::CLIENT);
  CHECK(who.value().client == "acme");
  auto tokens = LoadTokens(t.session().log());
  REQUIRE(tokens.ok());
  CHECK(tokens.value().at("acme-portal").client == "acme");
}

TEST_CASE("A client token for a client that does not exist is refused at issue") {
  TempLedger t;
  Register(t.session(), "acme");
  for (const char* id : {"beta", "$auth", "$catalog", "acm"}) {
    CAPTURE(id);
    auto r = IssueToken(t.session().log(), "p", Role::CLIENT, "boss", kNow, id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::kNotFound);
    CHECK(r.error().message.find("unknown client") != std::string::npos);
  }
  auto tokens = LoadTokens(t.session().log());
  REQUIRE(tokens.ok());
  CHECK(tokens.value().empty());  // nothing was written
}

TEST_CASE("The client role needs --client and the other roles refuse it") {
  TempLedger t;
  Register(t.session(), "acme");
  auto none = IssueToken(t.session().log(), "p", Role::CLIENT, "boss", kNow, "");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == Code::kInvalid);
  auto staff = IssueToken(t.session().log(), "s", Role::STAFF, "boss", kNow, "acme");
  REQUIRE_FALSE(staff.ok());
  CHECK(staff.error().code == Code::kInvalid);
}

TEST_CASE("ReadClientOp with a client token answers its own client and forbids another") {
  TempLedger t;
  Register(t.session(), "acme");
  Register(t.session(), "beta");
  auto own = ReadClientOp(t.session(), kAcme, Operation::kReadBalance, "acme", {});
  REQUIRE(own.ok());
  CHECK(own.value().state.id() == "acme");
  for (const char* other : {"beta", "ghost"}) {
    auto r = ReadClientOp(t.session(), kAcme, Operation::kReadBalance, other, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::kForbidden);  // "ghost" is not 404: no probing of ids
  }
  auto events = ReadEventsOp(t.session(), kAcme, {.client = "acme"},
                             [](const ledger::EventView&, const projections::Zone&) {});
  REQUIRE_FALSE(events.ok());
  CHECK(events.error().code == Code::kForbidden);
}

// BearerIfCurrent is what the server's loop thread authenticates a cached balance read with:
// the cached tokens only, only at the head they were read at, and only a valid token.
TEST_CASE("A token is accepted from the cache only at the head the tokens were read at") {
  TempLedger t;
  Register(t.session(), "acme");
  auto bill = IssueToken(t.session().log(), "bill", Role::BILLING, "boss", kNow);
  REQUIRE(bill.ok());
  Authenticator auth(t.session().log());
  const uint64_t head = t.session().log().HeadSeqInMemory().value();
  CHECK_FALSE(auth.BearerIfCurrent("Bearer " + bill.value(), head));  // nothing read yet
  REQUIRE(auth.Bearer("Bearer " + bill.value()).ok());                // a worker's check
  auto who = auth.BearerIfCurrent("bearer  " + bill.value(), head);
  REQUIRE(who);
  CHECK(who->name == "bill");
  CHECK(who->role == Role::BILLING);
  CHECK_FALSE(auth.BearerIfCurrent("Bearer " + bill.value(), head + 1));
  CHECK_FALSE(auth.BearerIfCurrent("Bearer hbt_0000", head));  // unknown: the worker says 401
  CHECK_FALSE(auth.BearerIfCurrent("Basic " + bill.value(), head));

  REQUIRE(RevokeToken(t.session().log(), "bill", "boss", kNow).ok());
  const uint64_t later = t.session().log().HeadSeqInMemory().value();
  CHECK_FALSE(auth.BearerIfCurrent("Bearer " + bill.value(), later));  // not read since
  auto refused = auth.Bearer("Bearer " + bill.value());                // revoked
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Code::kUnauthenticated);
  CHECK_FALSE(auth.BearerIfCurrent("Bearer " + bill.value(), later));  // revoked: never cached
}

}  // namespace
}  // namespace hourbank::service
