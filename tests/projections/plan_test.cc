// Plan files: the five example price lists parse with their figures, canonical text round
// trips, and each validation rule refuses a bad file with an error that names the file, the
// plan and the key.
#include <catch2/catch.hpp>

#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "projections/plan.h"

namespace hourbank::projections {
namespace {

using Catch::Matchers::Contains;

std::string ReadExample(const std::string& file) {
  const std::string path = std::string(HOURBANK_SOURCE_DIR) + "/examples/plans/" + file;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<PlanSpec> ParseExample(const std::string& file) {
  Result<std::vector<PlanSpec>> plans = ParsePlans(ReadExample(file), file);
  INFO(file << ": " << (plans.ok() ? std::string() : plans.error().message));
  REQUIRE(plans.ok());
  return *plans;
}

const PlanSpec& PlanById(const std::vector<PlanSpec>& plans, const std::string& id) {
  for (const PlanSpec& plan : plans) {
    if (plan.id == id) return plan;
  }
  FAIL("no plan " << id);
  return plans.front();
}

std::vector<std::string> Ids(const std::vector<PlanSpec>& plans) {
  std::vector<std::string> ids;
  for (const PlanSpec& plan : plans) ids.push_back(plan.id);
  return ids;
}

// The price per unit for `units` contract units: the tier the total falls in.
int64_t TierPrice(const PlanSpec& plan, uint32_t units) {
  for (const Tier& tier : plan.tiers) {
    if (units >= tier.min_units && (tier.max_units == 0 || units <= tier.max_units)) {
      return tier.unit_price_minor;
    }
  }
  return -1;
}

const std::vector<std::string> kExampleFiles = {"altercpa.toml", "bpmonline.toml", "agbis.toml",
                                                "kit.toml", "1c-start.toml"};

// A valid plan "p" with one hour kind. `keys` go into [[plan]] (before any sub-table),
// `tables` after the kind. Each validation test breaks one thing in it.
std::string Plan(const std::string& keys, const std::string& tables = "") {
  return "[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\n" + keys +
         "\n[[plan.kinds]]\nid = \"support\"\nunit = \"hour\"\n" + tables;
}

// Parses `text` as "test.toml", requires it to fail, and returns the message.
std::string ErrorOf(const std::string& text) {
  Result<std::vector<PlanSpec>> plans = ParsePlans(text, "test.toml");
  REQUIRE_FALSE(plans.ok());
  CHECK(plans.error().code == Code::kInvalid);
  return plans.error().message;
}

// The error starts with the file and plan, and contains each of `parts`.
void CheckError(const std::string& text, std::initializer_list<std::string> parts,
                const std::string& plan = "plan 'p'") {
  const std::string message = ErrorOf(text);
  INFO(message);
  CHECK_THAT(message, Catch::Matchers::StartsWith("test.toml: " + plan + ": key '"));
  for (const std::string& part : parts) CHECK_THAT(message, Contains(part));
}

PlanSpec ParseOne(const std::string& text) {
  Result<std::vector<PlanSpec>> plans = ParsePlans(text, "test.toml");
  INFO((plans.ok() ? std::string() : plans.error().message));
  REQUIRE(plans.ok());
  REQUIRE(plans->size() == 1);
  return plans->front();
}

// ---------------------------------------------------------------------------------------
// The example plans.

TEST_CASE("every example plan file parses and holds exactly the documented plan ids",
          "[projections][plan][examples]") {
  CHECK(Ids(ParseExample("altercpa.toml")) ==
        std::vector<std::string>{"altercpa-basic", "altercpa-standard", "altercpa-constructor",
                                 "altercpa-oneoff"});
  CHECK(Ids(ParseExample("bpmonline.toml")) ==
        std::vector<std::string>{"bpm-basic", "bpm-business", "bpm-premium"});
  CHECK(Ids(ParseExample("agbis.toml")) == std::vector<std::string>{"agbis"});
  CHECK(Ids(ParseExample("kit.toml")) == std::vector<std::string>{"kit-hours-10", "kit-hours-15",
                                                                  "kit-hours-25", "kit-hours-40",
                                                                  "kit-unlimited", "kit-prepaid"});
  CHECK(Ids(ParseExample("1c-start.toml")) == std::vector<std::string>{"1c-start"});
  CHECK(Ids(ParseExample("reviewed.toml")) ==
        std::vector<std::string>{"kit-hours-10-reviewed"});  // issue 18
}

TEST_CASE("AlterCPA plans carry the list's fees, quotas, one-off prices and surcharges",
          "[projections][plan][examples]") {
  const std::vector<PlanSpec> plans = ParseExample("altercpa.toml");
  const PlanSpec& basic = PlanById(plans, "altercpa-basic");
  const PlanSpec& standard = PlanById(plans, "altercpa-standard");
  const PlanSpec& constructor = PlanById(plans, "altercpa-constructor");

  CHECK(basic.currency == "USD");
  CHECK(basic.fee_minor == 50000);
  CHECK(standard.fee_minor == 100000);
  CHECK(constructor.fee_minor == 50000);
  // Basic: complex integrations are not included, so there is no quota for them (one-off).
  CHECK(basic.quotas ==
        std::map<std::string, uint32_t>{{"simple_integration", 20}, {"offer", 20}, {"site", 20}});
  CHECK(standard.quotas ==
        std::map<std::string, uint32_t>{
            {"simple_integration", 40}, {"complex_integration", 12}, {"offer", 40}, {"site", 80}});
  // Constructor: no sites; the site kinds still name pool "site", which the pack fills.
  CHECK(constructor.quotas == std::map<std::string, uint32_t>{{"simple_integration", 40},
                                                              {"complex_integration", 12},
                                                              {"offer", 40}});
  REQUIRE(constructor.FindKind("site_link") != nullptr);
  CHECK(constructor.FindKind("site_link")->pool == "site");

  for (const PlanSpec* plan : {&basic, &standard, &constructor}) {
    INFO(plan->id);
    CHECK(plan->urgent_percent == 300);
    CHECK(plan->off_hours_percent == 200);
    REQUIRE(plan->calendar.has_value());
    CHECK(plan->calendar->timezone == "Europe/Moscow");
    CHECK(plan->calendar->days_mask == 0x1F);
    CHECK(plan->calendar->open_minute == 10 * 60);
    CHECK(plan->calendar->close_minute == 18 * 60);
    CHECK(plan->kinds.size() == 13);

    const Kind* consultation = plan->FindKind("consultation");
    REQUIRE(consultation != nullptr);
    CHECK(consultation->unit == Unit::kItem);
    CHECK(consultation->included);
    const Kind* complex = plan->FindKind("complex_integration");
    REQUIRE(complex != nullptr);
    CHECK(complex->price_minor == 5000);
    CHECK(complex->pool == "complex_integration");
    const Kind* standard_integration = plan->FindKind("standard_integration");
    REQUIRE(standard_integration != nullptr);
    CHECK(standard_integration->price_minor == 2500);
    CHECK(standard_integration->pool.empty());
    const Kind* emergency = plan->FindKind("emergency");
    REQUIRE(emergency != nullptr);
    if (plan == &standard) {
      // "Спасение проекта в случае аварий" is part of Standard: included, no price.
      CHECK(emergency->included);
      CHECK_FALSE(emergency->price_minor.has_value());
      CHECK_FALSE(emergency->off_hours_price_minor.has_value());
    } else {
      CHECK_FALSE(emergency->included);
      CHECK(emergency->price_minor == 5000);
      CHECK(emergency->off_hours_price_minor == 15000);
    }
    CHECK(plan->FindKind("api_offer")->pool == "offer");
    CHECK(plan->FindKind("external_offer")->price_minor == 1500);
    CHECK(plan->FindKind("site_finance")->price_minor == 1700);
    CHECK(plan->FindKind("site_layout")->price_minor == 25000);
    CHECK(plan->FindKind("chief_consultation")->price_minor == 15000);

    const Addon* sites = plan->FindAddon("altercpa-sites-40");
    REQUIRE(sites != nullptr);
    CHECK(sites->price_minor == 20000);
    CHECK(sites->slots == 40);
    CHECK(sites->pool == "site");
    const Addon* shared = plan->FindAddon("altercpa-offers-simple-40");
    REQUIRE(shared != nullptr);
    CHECK(shared->pool.empty());
    CHECK(shared->kinds ==
          std::vector<std::string>{"api_offer", "external_offer", "simple_integration"});
    const Addon* complex_pack = plan->FindAddon("altercpa-complex-12");
    REQUIRE(complex_pack != nullptr);
    CHECK(complex_pack->slots == 12);
    CHECK(complex_pack->pool == "complex_integration");
  }
}

TEST_CASE("AlterCPA one-off support has no fee, no slots and a price for every kind",
          "[projections][plan][examples]") {
  const std::vector<PlanSpec> plans = ParseExample("altercpa.toml");
  const PlanSpec& oneoff = PlanById(plans, "altercpa-oneoff");
  CHECK(oneoff.currency == "USD");
  CHECK(oneoff.fee_minor == 0);
  CHECK(oneoff.quotas.empty());
  CHECK(oneoff.addons.empty());
  CHECK(oneoff.urgent_percent == 300);
  CHECK(oneoff.off_hours_percent == 200);
  CHECK(oneoff.kinds.size() == 13);
  for (const Kind& kind : oneoff.kinds) {
    INFO(kind.id);
    CHECK(kind.unit == Unit::kItem);
    CHECK_FALSE(kind.included);
    CHECK(kind.pool.empty());
    CHECK(kind.price_minor.has_value());
  }
  CHECK(oneoff.FindKind("consultation")->price_minor == 1500);  // "Консультация: от $15 за вопрос"
  CHECK(oneoff.FindKind("emergency")->off_hours_price_minor == 15000);
}

TEST_CASE("1C Start has unlimited phone consultations beside the consultation hours",
          "[projections][plan][examples]") {
  const std::vector<PlanSpec> plans = ParseExample("1c-start.toml");
  const PlanSpec& start = PlanById(plans, "1c-start");
  const Kind* phone = start.FindKind("phone_consultation");
  REQUIRE(phone != nullptr);
  CHECK(phone->unit == Unit::kItem);
  CHECK(phone->included);
  REQUIRE(start.FindKind("consultation") != nullptr);
  CHECK(start.FindKind("consultation")->unit == Unit::kHour);
}

TEST_CASE("bpmonline plans are unlimited with a one-year minimum and the list's SLA",
          "[projections][plan][examples]") {
  const std::vector<PlanSpec> plans = ParseExample("bpmonline.toml");
  const PlanSpec& basic = PlanById(plans, "bpm-basic");
  const PlanSpec& business = PlanById(plans, "bpm-business");
  const PlanSpec& premium = PlanById(plans, "bpm-premium");
  CHECK(basic.fee_minor == 2400000);
  CHECK(business.fee_minor == 8900000);
  CHECK(premium.fee_minor == 18000000);
  for (const PlanSpec* plan : {&basic, &business, &premium}) {
    INFO(plan->id);
    CHECK(plan->currency == "RUB");
    CHECK(plan->unlimited);
    CHECK(plan->minimum_term_months == 12);
    REQUIRE(plan->kinds.size() == 1);
    CHECK(plan->kinds[0].id == "support");
    CHECK(plan->kinds[0].unit == Unit::kHour);
    REQUIRE(plan->sla.has_value());
    CHECK(plan->sla->service_hours.timezone == "Europe/Moscow");
    REQUIRE(plan->sla->targets.size() == 4);
  }
  CHECK(basic.sla->service_hours.days_mask == 0x1F);
  CHECK(basic.sla->service_hours.open_minute == 600);
  CHECK(basic.sla->service_hours.close_minute == 1080);
  CHECK(business.sla->service_hours.days_mask == 0x3F);
  CHECK(business.sla->service_hours.open_minute == 540);
  CHECK(business.sla->service_hours.close_minute == 1140);
  CHECK(premium.sla->service_hours.always_open);

  CHECK(basic.sla->targets[0].reaction_minutes == 24 * 60);
  CHECK(business.sla->targets[0].reaction_minutes == 4 * 60);
  CHECK(premium.sla->targets[0].reaction_minutes == 60);
  for (size_t i = 1; i < 4; ++i) {
    CHECK(basic.sla->targets[i].reaction_minutes == 48 * 60);
    CHECK(business.sla->targets[i].reaction_minutes == 24 * 60);
    CHECK(premium.sla->targets[i].reaction_minutes == 4 * 60);
  }
  CHECK(premium.sla->targets[0].resolution_minutes == 12 * 60);
  CHECK(premium.sla->targets[1].resolution_working_days == 3);
  CHECK(premium.sla->targets[2].resolution_working_days == 10);
  CHECK(premium.sla->targets[3].resolution_working_days == 20);
  CHECK(basic.sla->targets[1].resolution_working_days == 0);
}

TEST_CASE("AGBIS prices every licence at the tier of the total, in whole roubles",
          "[projections][plan][examples]") {
  const PlanSpec agbis = PlanById(ParseExample("agbis.toml"), "agbis");
  CHECK(agbis.currency == "RUB");
  CHECK(agbis.fee_minor == 0);
  REQUIRE(agbis.tiers.size() == 10);
  CHECK(TierPrice(agbis, 1) == 444000);
  CHECK(TierPrice(agbis, 3) == 444000);
  CHECK(TierPrice(agbis, 4) == 228000);
  CHECK(TierPrice(agbis, 10) == 174000);
  CHECK(TierPrice(agbis, 15) == 152400);
  CHECK(TierPrice(agbis, 20) == 132000);
  CHECK(TierPrice(agbis, 30) == 102000);
  CHECK(TierPrice(agbis, 50) == 78000);
  CHECK(TierPrice(agbis, 100) == 54000);
  CHECK(TierPrice(agbis, 150) == 42000);
  CHECK(TierPrice(agbis, 151) == 40800);
  CHECK(TierPrice(agbis, 100000) == 40800);
  CHECK(agbis.tiers.back().max_units == 0);
  CHECK(agbis.round_to_minor == 100);
  REQUIRE(agbis.prepaid_discounts.size() == 2);
  CHECK(agbis.prepaid_discounts[0].min_months == 6);
  CHECK(agbis.prepaid_discounts[0].percent == 7);
  CHECK(agbis.prepaid_discounts[1].min_months == 12);
  CHECK(agbis.prepaid_discounts[1].percent == 20);
  CHECK(agbis.timely_discount_percent == 20);
  CHECK(agbis.minimum_term_months == 3);
  CHECK(agbis.unlimited);
  REQUIRE(agbis.FindExtra("extra_contact") != nullptr);
  CHECK(agbis.FindExtra("extra_contact")->price_minor == 100000);
  REQUIRE(agbis.FindExtra("personal_manager") != nullptr);
  CHECK(agbis.FindExtra("personal_manager")->price_minor == 1300000);
  REQUIRE(agbis.kinds.size() == 1);
  CHECK(agbis.kinds[0].id == "support");
}

TEST_CASE("KIT plans: burning packages, unlimited, and prepaid blocks with chosen prices",
          "[projections][plan][examples]") {
  const std::vector<PlanSpec> plans = ParseExample("kit.toml");
  const std::vector<std::pair<std::string, int64_t>> packages = {
      {"kit-hours-10", 600}, {"kit-hours-15", 900}, {"kit-hours-25", 1500}, {"kit-hours-40", 2400}};
  for (const auto& [id, minutes] : packages) {
    const PlanSpec& plan = PlanById(plans, id);
    INFO(id);
    CHECK(plan.included_minutes == minutes);
    CHECK(plan.rollover == Rollover::kBurn);
    CHECK(plan.minimum_term_months == 3);
    CHECK(plan.fee_minor == minutes / 60 * 255000);  // chosen: hours x 2 550.00
    CHECK(plan.overage_rate_minor == 255000);
    REQUIRE(plan.prepaid_discounts.size() == 2);
    CHECK(plan.prepaid_discounts[0].min_months == 7);  // "more than 6 months"
    CHECK(plan.prepaid_discounts[0].percent == 5);
    CHECK(plan.prepaid_discounts[1].min_months == 13);  // "more than 12 months"
    CHECK(plan.prepaid_discounts[1].percent == 10);
    CHECK(plan.sla->targets[0].reaction_minutes == 120);
    CHECK_THAT(plan.note, Contains("chosen"));
  }
  const PlanSpec& unlimited = PlanById(plans, "kit-unlimited");
  CHECK(unlimited.unlimited);
  CHECK(unlimited.minimum_term_months == 1);
  REQUIRE(unlimited.prepaid_discounts.size() == 1);
  CHECK(unlimited.prepaid_discounts[0].min_months == 3);
  CHECK(unlimited.prepaid_discounts[0].percent == 10);
  CHECK(unlimited.sla->targets[0].reaction_minutes == 60);

  const PlanSpec& prepaid = PlanById(plans, "kit-prepaid");
  CHECK(prepaid.fee_minor == 0);
  CHECK(prepaid.included_minutes == 0);
  CHECK(prepaid.overage_rate_minor == 255000);
  REQUIRE(prepaid.block_offers.size() == 4);
  CHECK(prepaid.block_offers[0].minutes == 600);
  CHECK(prepaid.block_offers[1].minutes == 900);
  CHECK(prepaid.block_offers[2].minutes == 1800);
  CHECK(prepaid.block_offers[3].minutes == 3000);
  CHECK(prepaid.block_offers[3].price_minor == 12750000);
  CHECK(prepaid.sla->targets[0].reaction_minutes == 180);

  for (const PlanSpec& plan : plans) {
    INFO(plan.id);
    CHECK(plan.FindKind("support") != nullptr);
    CHECK(plan.FindKind("development") != nullptr);
    CHECK(plan.FindKind("consultation") != nullptr);
    CHECK(plan.sla->service_hours.open_minute == 9 * 60);
    CHECK(plan.sla->service_hours.close_minute == 19 * 60);
    CHECK(plan.sla->service_hours.timezone == "Europe/Moscow");
  }
}

TEST_CASE("1C Start carries 10 hours into a reserve capped at 10, after a two-month trial",
          "[projections][plan][examples]") {
  const PlanSpec plan = PlanById(ParseExample("1c-start.toml"), "1c-start");
  CHECK(plan.fee_minor == 2000000);
  CHECK(plan.included_minutes == 600);
  CHECK(plan.rollover == Rollover::kCarry);
  CHECK(plan.reserve_cap_minutes == 600);
  CHECK(plan.overage_rate_minor == 200000);
  CHECK(plan.trial_months == 2);
  CHECK(plan.acceptance_required);
  REQUIRE(plan.kinds.size() == 4);  // with phone_consultation (unlimited, included)
  CHECK(plan.FindKind("consultation") != nullptr);
  CHECK(plan.FindKind("development") != nullptr);
  CHECK(plan.FindKind("update") != nullptr);
  CHECK(plan.FindKind("support") == nullptr);
}

// ---------------------------------------------------------------------------------------
// Canonical text.

TEST_CASE("canonical text of every example plan parses back to the same plan",
          "[projections][plan][canonical]") {
  for (const std::string& file : kExampleFiles) {
    for (const PlanSpec& plan : ParseExample(file)) {
      INFO(file << " " << plan.id);
      const std::string canonical = CanonicalToml(plan);
      Result<PlanSpec> back = ParseCanonicalPlan(canonical);
      INFO(canonical << (back.ok() ? std::string() : back.error().message));
      REQUIRE(back.ok());
      CHECK(*back == plan);
      // The canonical text of re-parsed canonical text is byte-identical.
      CHECK(CanonicalToml(*back) == canonical);
    }
  }
}

TEST_CASE("canonical text is one [[plan]] table with every default written out",
          "[projections][plan][canonical]") {
  const std::string canonical = CanonicalToml(ParseOne(Plan("")));
  size_t tables = 0;
  for (size_t at = canonical.find("[[plan]]"); at != std::string::npos;
       at = canonical.find("[[plan]]", at + 1)) {
    ++tables;
  }
  CHECK(tables == 1);
  for (const char* line :
       {"name = \"p\"\n", "note = \"\"\n", "fee_minor = 0\n", "round_to_minor = 1\n",
        "rollover = \"burn\"\n", "reserve_cap_minutes = 0\n", "unlimited = false\n",
        "urgent_percent = 100\n", "off_hours_percent = 100\n", "grace_days = 0\n",
        "acceptance_required = false\n", "tiers = []\n", "quotas = {}\n", "addons = []\n",
        "extras = []\n", "block_offers = []\n", "prepaid_discounts = []\n"}) {
    CHECK_THAT(canonical, Contains(line));
  }
  // Key order is fixed: id first, then name, currency, note, fee.
  CHECK(canonical.find("id = ") < canonical.find("name = "));
  CHECK(canonical.find("note = ") < canonical.find("fee_minor = "));
}

TEST_CASE("canonical text escapes quotes, backslashes and newlines in free text",
          "[projections][plan][canonical]") {
  PlanSpec plan = ParseOne(Plan(""));
  plan.name = "Plan \"Start\" — тариф";
  plan.note = "line one\nline two\twith tab \\ and \x01 control";
  const std::string canonical = CanonicalToml(plan);
  Result<PlanSpec> back = ParseCanonicalPlan(canonical);
  INFO(canonical << (back.ok() ? std::string() : back.error().message));
  REQUIRE(back.ok());
  CHECK(back->name == plan.name);
  CHECK(back->note == plan.note);
  CHECK(CanonicalToml(*back) == canonical);
}

TEST_CASE("canonical parsing refuses text holding two plans", "[projections][plan][canonical]") {
  const std::string two = Plan("") +
                          "\n[[plan]]\nid = \"q\"\ncurrency = \"RUB\"\n"
                          "[[plan.kinds]]\nid = \"support\"\n";
  Result<PlanSpec> plan = ParseCanonicalPlan(two);
  REQUIRE_FALSE(plan.ok());
  CHECK_THAT(plan.error().message, Contains("exactly one plan"));
}

// ---------------------------------------------------------------------------------------
// Validation: one rule per test.

TEST_CASE("a TOML syntax error names the file and the line", "[projections][plan][validate]") {
  const std::string message = ErrorOf("[[plan]]\nid = \"p\"\ncurrency = RUB\n");
  CHECK_THAT(message, Catch::Matchers::StartsWith("test.toml: line 3"));
  CHECK_THAT(message, Contains("TOML syntax error"));
}

TEST_CASE("a file without a [[plan]] table is refused", "[projections][plan][validate]") {
  CHECK_THAT(ErrorOf("# nothing here\n"), Contains("no [[plan]] table"));
  CHECK_THAT(ErrorOf("[plan]\nid = \"p\"\n"), Contains("double brackets"));
}

TEST_CASE("an unknown plan key is refused with the nearest known key",
          "[projections][plan][validate]") {
  CheckError(Plan("fee = 100\n"), {"key 'fee'", "unknown key", "did you mean 'fee_minor'"});
}

TEST_CASE("an unknown key inside a kind, a calendar or an SLA target is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("", "colour = \"red\"\n"), {"key 'kinds[1].colour'", "unknown key"});
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nholiday = []\n"),
             {"key 'calendar.holiday'", "did you mean 'holidays'"});
  CheckError(Plan("",
                  "[plan.sla.service_hours]\ntimezone = \"UTC\"\n"
                  "[[plan.sla.targets]]\npriority = 1\nreaction = 60\n"),
             {"key 'sla.targets[1].reaction'", "unknown key"});
}

TEST_CASE("an unknown top-level key outside [[plan]] is refused", "[projections][plan][validate]") {
  const std::string message = ErrorOf("version = 2\n" + Plan(""));
  CHECK_THAT(message, Contains("key 'version'"));
  CHECK_THAT(message, Contains("inside a [[plan]]"));
}

TEST_CASE("a value of the wrong type is refused naming the expected type",
          "[projections][plan][validate]") {
  CheckError(Plan("fee_minor = \"50000\"\n"),
             {"key 'fee_minor'", "is a string, expected an integer"});
  CheckError(Plan("unlimited = \"yes\"\n"), {"key 'unlimited'", "expected a boolean"});
  CheckError(Plan("name = 5\n"), {"key 'name'", "expected a string"});
}

TEST_CASE("a float money value is refused and says to use integer minor units",
          "[projections][plan][validate]") {
  CheckError(Plan("fee_minor = 500.00\n"), {"key 'fee_minor'", "is a float", "minor units"});
}

TEST_CASE("a float anywhere, even under an unknown key or in an array, is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("", "price_minor = 1.5\n"),
             {"key 'kinds[1].price_minor'", "is a float", "minutes", "percent"});
  CheckError(Plan("bogus = 1e3\n"), {"key 'bogus'", "is a float"});
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nholidays = [1.5]\n"),
             {"key 'calendar.holidays[1]'", "is a float"});
}

TEST_CASE("a negative price is refused", "[projections][plan][validate]") {
  CheckError(Plan("overage_rate_minor = -100\n"), {"key 'overage_rate_minor'", "is negative"});
  CheckError(Plan("", "[[plan.extras]]\nid = \"x\"\nprice_minor = -1\n"),
             {"key 'extras[1].price_minor'", "is negative"});
}

TEST_CASE("a negative number of minutes is refused", "[projections][plan][validate]") {
  CheckError(Plan("included_minutes = -60\n"), {"key 'included_minutes'", "is negative"});
}

TEST_CASE("a negative percent is refused", "[projections][plan][validate]") {
  CheckError(Plan("timely_discount_percent = -5\n"),
             {"key 'timely_discount_percent'", "is negative"});
}

TEST_CASE("a plan without an id is refused", "[projections][plan][validate]") {
  CheckError("[[plan]]\ncurrency = \"RUB\"\n[[plan.kinds]]\nid = \"support\"\n",
             {"key 'id'", "missing"}, "plan #1");
}

TEST_CASE("a plan without a currency is refused", "[projections][plan][validate]") {
  CheckError("[[plan]]\nid = \"p\"\n[[plan.kinds]]\nid = \"support\"\n",
             {"key 'currency'", "missing", "ISO 4217"});
}

TEST_CASE("an id outside [a-z0-9][a-z0-9._-]{0,63} is refused", "[projections][plan][validate]") {
  CheckError("[[plan]]\nid = \"Basic Plan\"\ncurrency = \"RUB\"\n",
             {"key 'id'", "not a valid id", "lower-case"}, "plan #1");
  CheckError("[[plan]]\nid = \"-p\"\ncurrency = \"RUB\"\n", {"key 'id'", "not a valid id"},
             "plan #1");
  CheckError("[[plan]]\nid = \"" + std::string(65, 'a') + "\"\ncurrency = \"RUB\"\n",
             {"key 'id'", "not a valid id"}, "plan #1");
  CheckError(Plan("", "[[plan.kinds]]\nid = \"Site\"\n"), {"key 'kinds[2].id'", "not a valid id"});
}

TEST_CASE("a currency that is not three upper-case letters is refused",
          "[projections][plan][validate]") {
  CheckError("[[plan]]\nid = \"p\"\ncurrency = \"rub\"\n", {"key 'currency'", "upper-case"});
  CheckError("[[plan]]\nid = \"p\"\ncurrency = \"RUBL\"\n", {"key 'currency'"});
}

TEST_CASE("a plan with both fee_minor and tiers is refused", "[projections][plan][validate]") {
  CheckError(Plan("fee_minor = 100\n", "[[plan.tiers]]\nmin_units = 1\nunit_price_minor = 5\n"),
             {"key 'fee_minor'", "together with tiers", "remove one"});
}

TEST_CASE("overlapping tiers are refused", "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.tiers]]\nmin_units = 1\nmax_units = 3\nunit_price_minor = 5\n"
                  "[[plan.tiers]]\nmin_units = 3\nunit_price_minor = 4\n"),
             {"key 'tiers[2].min_units'", "overlaps", "here 4"});
}

TEST_CASE("tiers with a gap between them are refused", "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.tiers]]\nmin_units = 1\nmax_units = 3\nunit_price_minor = 5\n"
                  "[[plan.tiers]]\nmin_units = 5\nunit_price_minor = 4\n"),
             {"key 'tiers[2].min_units'", "gap"});
}

TEST_CASE("tiers that do not start at 1 are refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.tiers]]\nmin_units = 2\nunit_price_minor = 5\n"),
             {"key 'tiers[1].min_units'", "must start at 1"});
}

TEST_CASE("an unbounded tier that is not the last is refused", "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.tiers]]\nmin_units = 1\nunit_price_minor = 5\n"
                  "[[plan.tiers]]\nmin_units = 10\nunit_price_minor = 4\n"),
             {"key 'tiers[1].max_units'", "unbounded tier must be last"});
}

TEST_CASE("rollover carry without reserve_cap_minutes is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("included_minutes = 600\nrollover = \"carry\"\n"),
             {"key 'reserve_cap_minutes'", "rollover = \"carry\"", "carry_unlimited"});
}

TEST_CASE("reserve_cap_minutes with a rollover other than carry is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("rollover = \"burn\"\nreserve_cap_minutes = 600\n"),
             {"key 'reserve_cap_minutes'", "\"burn\""});
  CheckError(Plan("rollover = \"carry_unlimited\"\nreserve_cap_minutes = 600\n"),
             {"key 'reserve_cap_minutes'", "\"carry_unlimited\""});
}

TEST_CASE("an unknown rollover policy is refused", "[projections][plan][validate]") {
  CheckError(Plan("rollover = \"keep\"\n"), {"key 'rollover'", "unknown rollover \"keep\""});
}

TEST_CASE("an unknown kind unit is refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.kinds]]\nid = \"site\"\nunit = \"piece\"\n"),
             {"key 'kinds[2].unit'", "unknown unit \"piece\"", "\"item\""});
}

TEST_CASE("an item kind with no pool, no price and not included is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.kinds]]\nid = \"site\"\nunit = \"item\"\n"),
             {"key 'kinds[2].price_minor'", "could never be billed"});
}

TEST_CASE("an hour kind with a pool is refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.kinds]]\nid = \"dev\"\nunit = \"hour\"\npool = \"dev\"\n"),
             {"key 'kinds[2].pool'", "hour kind \"dev\""});
}

TEST_CASE("an included item kind that also has a price is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.kinds]]\nid = \"c\"\nunit = \"item\"\nincluded = true\n"
                  "price_minor = 1500\n"),
             {"key 'kinds[2].price_minor'", "included kind"});
}

TEST_CASE("a quota for a pool no kind uses is refused", "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.kinds]]\nid = \"site_link\"\nunit = \"item\"\nprice_minor = 900\n"
                  "pool = \"site\"\n[plan.quotas]\nsite = 20\nsites = 20\n"),
             {"key 'quotas.sites'", "not used by any kind"});
}

TEST_CASE("a kind's pool may have no quota, to be filled by an add-on (AlterCPA Constructor)",
          "[projections][plan][validate]") {
  const PlanSpec plan =
      ParseOne(Plan("",
                    "[[plan.kinds]]\nid = \"site_link\"\nunit = \"item\"\nprice_minor = 900\n"
                    "pool = \"site\"\n[[plan.addons]]\nid = \"sites-40\"\nprice_minor = 20000\n"
                    "slots = 40\npool = \"site\"\n"));
  CHECK(plan.quotas.empty());
  REQUIRE(plan.FindAddon("sites-40") != nullptr);
  CHECK(plan.FindAddon("sites-40")->pool == "site");
}

TEST_CASE("an add-on with both pool and kinds is refused", "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.kinds]]\nid = \"site\"\nunit = \"item\"\nprice_minor = 9\n"
                  "pool = \"site\"\n[[plan.addons]]\nid = \"a\"\nprice_minor = 1\nslots = 1\n"
                  "pool = \"site\"\nkinds = [\"site\"]\n"),
             {"key 'addons[1].pool'", "together with kinds", "exactly one"});
}

TEST_CASE("an add-on with neither pool nor kinds is refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.addons]]\nid = \"a\"\nprice_minor = 1\nslots = 1\n"),
             {"key 'addons[1].kinds'", "neither pool nor kinds"});
}

TEST_CASE("an add-on naming a pool no kind draws from is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.addons]]\nid = \"a\"\nprice_minor = 1\nslots = 1\npool = \"site\"\n"),
             {"key 'addons[1].pool'", "pool \"site\", which no kind draws from"});
}

TEST_CASE("an add-on naming an unknown kind is refused", "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.addons]]\nid = \"a\"\nprice_minor = 1\nslots = 1\n"
                  "kinds = [\"offer\"]\n"),
             {"key 'addons[1].kinds[1]'", "unknown kind \"offer\""});
}

TEST_CASE("an add-on sharing a pool with an hour kind is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.addons]]\nid = \"a\"\nprice_minor = 1\nslots = 1\n"
                  "kinds = [\"support\"]\n"),
             {"key 'addons[1].kinds[1]'", "does not draw slots"});
}

TEST_CASE("a shared add-on whose id is already a kind's pool is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.kinds]]\nid = \"o\"\nunit = \"item\"\nprice_minor = 5\n"
                  "pool = \"offer\"\n[[plan.addons]]\nid = \"offer\"\nprice_minor = 1\n"
                  "slots = 1\nkinds = [\"o\"]\n"),
             {"key 'addons[1].id'", "also the name of a kind's pool"});
}

TEST_CASE("two plans with the same id in one file are refused", "[projections][plan][validate]") {
  CheckError(Plan("") + Plan(""), {"key 'id'", "defined twice in this file"});
}

TEST_CASE("two kinds with the same id are refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.kinds]]\nid = \"support\"\n"),
             {"key 'kinds[2].id'", "kind \"support\" is defined twice"});
}

TEST_CASE("two add-ons with the same id are refused", "[projections][plan][validate]") {
  const std::string addon =
      "[[plan.addons]]\nid = \"a\"\nprice_minor = 1\nslots = 1\npool = \"site\"\n";
  CheckError(Plan("",
                  "[[plan.kinds]]\nid = \"s\"\nunit = \"item\"\nprice_minor = 9\n"
                  "pool = \"site\"\n" +
                      addon + addon),
             {"key 'addons[2].id'", "add-on \"a\" is defined twice"});
}

TEST_CASE("two extras with the same id are refused", "[projections][plan][validate]") {
  const std::string extra = "[[plan.extras]]\nid = \"manager\"\nprice_minor = 1300000\n";
  CheckError(Plan("", extra + extra), {"key 'extras[2].id'", "extra \"manager\" is defined twice"});
}

TEST_CASE("a plan without work kinds is valid (a flat fee needs none)",
          "[projections][plan][validate]") {
  const PlanSpec plan = ParseOne("[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\nfee_minor = 100000\n");
  CHECK(plan.kinds.empty());
  CHECK(plan.name == "p");
  Result<PlanSpec> back = ParseCanonicalPlan(CanonicalToml(plan));
  REQUIRE(back.ok());
  CHECK(*back == plan);
}

TEST_CASE("an urgent surcharge below 100 percent is refused", "[projections][plan][validate]") {
  CheckError(Plan("urgent_percent = 3\n"), {"key 'urgent_percent'", "below 100", "300 is 3x"});
}

TEST_CASE("an off-hours surcharge below 100 percent is refused", "[projections][plan][validate]") {
  CheckError(Plan("off_hours_percent = 50\n"), {"key 'off_hours_percent'", "below 100"});
}

TEST_CASE("a timely discount above 100 percent is refused", "[projections][plan][validate]") {
  CheckError(Plan("timely_discount_percent = 120\n"),
             {"key 'timely_discount_percent'", "above 100"});
}

TEST_CASE("a prepaid discount above 100 percent is refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[[plan.prepaid_discounts]]\nmin_months = 6\npercent = 107\n"),
             {"key 'prepaid_discounts[1].percent'", "out of range", "0 to 100"});
}

TEST_CASE("two prepaid discounts for the same months are refused, and they come out sorted",
          "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[[plan.prepaid_discounts]]\nmin_months = 6\npercent = 7\n"
                  "[[plan.prepaid_discounts]]\nmin_months = 6\npercent = 8\n"),
             {"key 'prepaid_discounts[2].min_months'", "two discounts"});
  const PlanSpec plan = ParseOne(Plan("",
                                      "[[plan.prepaid_discounts]]\nmin_months = 12\n"
                                      "percent = 20\n[[plan.prepaid_discounts]]\n"
                                      "min_months = 6\npercent = 7\n"));
  REQUIRE(plan.prepaid_discounts.size() == 2);
  CHECK(plan.prepaid_discounts[0].min_months == 6);
  CHECK(plan.prepaid_discounts[1].min_months == 12);
}

TEST_CASE("malformed calendar hours are refused", "[projections][plan][validate]") {
  for (const char* hours : {"10-18", "10:00–18:00", "25:00-26:00", "10:60-18:00", "", "24/7"}) {
    INFO(hours);
    CheckError(
        Plan("", std::string("[plan.calendar]\ntimezone = \"UTC\"\nhours = \"") + hours + "\"\n"),
        {"key 'calendar.hours'", "HH:MM-HH:MM"});
  }
}

TEST_CASE("calendar hours that open at or after they close are refused",
          "[projections][plan][validate]") {
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nhours = \"18:00-10:00\"\n"),
             {"key 'calendar.hours'", "opens at or after it closes"});
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nhours = \"10:00-10:00\"\n"),
             {"key 'calendar.hours'", "opens at or after it closes"});
}

TEST_CASE("a calendar closing at 24:00 is open until midnight", "[projections][plan][validate]") {
  const PlanSpec plan =
      ParseOne(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nhours = \"20:00-24:00\"\n"));
  CHECK(plan.calendar->open_minute == 20 * 60);
  CHECK(plan.calendar->close_minute == 24 * 60);
}

TEST_CASE("an unknown day name is refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\ndays = [\"mon\", \"Tuesday\"]\n"),
             {"key 'calendar.days[2]'", "unknown day \"Tuesday\"", "lower case"});
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\ndays = [\"mon\", \"mon\"]\n"),
             {"key 'calendar.days[2]'", "listed twice"});
}

TEST_CASE("a holiday that is not a real date is refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nholidays = [\"2026-02-30\"]\n"),
             {"key 'calendar.holidays[1]'", "not a real date"});
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nholidays = [\"1 Jan 2026\"]\n"),
             {"key 'calendar.holidays[1]'", "YYYY-MM-DD"});
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nholidays = [2026-01-01T10:00:00]\n"),
             {"key 'calendar.holidays[1]'", "is a date-time, expected a date"});
}

TEST_CASE("holidays are accepted as strings or TOML dates and kept sorted",
          "[projections][plan][validate]") {
  const PlanSpec plan = ParseOne(Plan("",
                                      "[plan.calendar]\ntimezone = \"Europe/Moscow\"\n"
                                      "holidays = [\"2026-05-09\", 2026-01-01, 2024-02-29]\n"));
  CHECK(plan.calendar->holidays == std::vector<int32_t>{20240229, 20260101, 20260509});
}

TEST_CASE("a 24x7 calendar is open every day and refuses a shorter day list",
          "[projections][plan][validate]") {
  const PlanSpec plan =
      ParseOne(Plan("", "[plan.calendar]\ntimezone = \"UTC\"\nhours = \"24x7\"\n"));
  CHECK(plan.calendar->always_open);
  CHECK(plan.calendar->days_mask == 0x7F);
  CheckError(Plan("",
                  "[plan.calendar]\ntimezone = \"UTC\"\nhours = \"24x7\"\n"
                  "days = [\"mon\"]\n"),
             {"key 'calendar.days'", "24x7"});
}

TEST_CASE("a calendar without a time zone name is refused", "[projections][plan][validate]") {
  CheckError(Plan("", "[plan.calendar]\nhours = \"10:00-18:00\"\n"),
             {"key 'calendar.timezone'", "missing", "IANA"});
  CheckError(Plan("", "[plan.calendar]\ntimezone = \"\"\n"), {"key 'calendar.timezone'", "empty"});
}

TEST_CASE("time zone names are not resolved by the parser", "[projections][plan][validate]") {
  // The tools resolve zones against the tz database; the parser only needs a name.
  const PlanSpec plan = ParseOne(Plan("", "[plan.calendar]\ntimezone = \"Mars/Olympus\"\n"));
  CHECK(plan.calendar->timezone == "Mars/Olympus");
}

TEST_CASE("an SLA priority outside 1..4 is refused", "[projections][plan][validate]") {
  const std::string sla = "[plan.sla.service_hours]\ntimezone = \"UTC\"\n[[plan.sla.targets]]\n";
  CheckError(Plan("", sla + "priority = 5\nreaction_minutes = 60\n"),
             {"key 'sla.targets[1].priority'", "outside 1..4"});
  CheckError(Plan("", sla + "priority = 0\nreaction_minutes = 60\n"),
             {"key 'sla.targets[1].priority'", "outside 1..4"});
}

TEST_CASE("an SLA target with both resolution minutes and working days is refused",
          "[projections][plan][validate]") {
  CheckError(Plan("",
                  "[plan.sla.service_hours]\ntimezone = \"UTC\"\n[[plan.sla.targets]]\n"
                  "priority = 2\nresolution_minutes = 60\nresolution_working_days = 3\n"),
             {"key 'sla.targets[1].resolution_working_days'", "together with resolution_minutes"});
}

TEST_CASE("errors point at the line of the offending value", "[projections][plan][validate]") {
  const std::string message = ErrorOf(Plan("note = \"x\"\nfee_minor = -1\n"));
  CHECK_THAT(message, Contains("(line 5)"));
}

TEST_CASE(
    "contract-life keys parse, round-trip through the canonical text, and default to the old "
    "behaviour",
    "[plan][lifecycle]") {
  const PlanSpec agbis = PlanById(ParseExample("agbis.toml"), "agbis");
  CHECK(agbis.allowed_terms_months == std::vector<uint32_t>{3, 6, 12});
  CHECK(agbis.early_end == EarlyEnd::kWhenSettled);
  CHECK(agbis.timely_min_prepaid_months == 6);
  CHECK(agbis.debt_blocking == DebtBlocking::kNone);
  CHECK(PlanById(ParseExample("altercpa.toml"), "altercpa-basic").debt_blocking ==
        DebtBlocking::kPrepaid);
  CHECK(PlanById(ParseExample("kit.toml"), "kit-hours-10").early_end == EarlyEnd::kPayMinimumTerm);
  Result<PlanSpec> again = ParseCanonicalPlan(CanonicalToml(agbis));
  REQUIRE(again.ok());
  CHECK(*again == agbis);
  // A plan that does not use them keeps its canonical text (and so its version) unchanged.
  Result<std::vector<PlanSpec>> plain =
      ParsePlans("[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\n", "p.toml");
  REQUIRE(plain.ok());
  const std::string text = CanonicalToml(plain->front());
  CHECK(text.find("debt_blocking") == std::string::npos);
  CHECK(text.find("allowed_terms_months") == std::string::npos);
  CHECK(text.find("early_end") == std::string::npos);
}

TEST_CASE("bad contract-life keys are refused with the key and the fix", "[plan][lifecycle]") {
  auto error = [](const std::string& line) {
    Result<std::vector<PlanSpec>> r = ParsePlans(
        "[[plan]]\nid = \"p\"\ncurrency = \"RUB\"\nminimum_term_months = 3\n" + line + "\n",
        "p.toml");
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK_THAT(error("debt_blocking = \"always\""), Contains("debt_blocking"));
  CHECK_THAT(error("early_end = \"never\""), Contains("pay_minimum_term"));
  CHECK_THAT(error("allowed_terms_months = []"), Contains("allowed_terms_months"));
  CHECK_THAT(error("allowed_terms_months = [3, 3]"), Contains("twice"));
  CHECK_THAT(error("allowed_terms_months = [1, 3]"), Contains("below minimum_term_months"));
  CHECK_THAT(error("allowed_terms_months = [0]"), Contains("allowed_terms_months"));
  CHECK_THAT(error("allowed_terms_months = [\"3\"]"), Contains("allowed_terms_months"));
  CHECK_THAT(error("timely_min_prepaid_months = -1"), Contains("timely_min_prepaid_months"));
}

// ---------------------------------------------------------------------------------------
// SLA breach credits (docs/plan-format.md, [plan.sla]; docs/sla.md "Breach credits").

const std::string kSlaHours =
    "\n[plan.sla.service_hours]\ntimezone = \"Europe/Moscow\"\ndays = [\"mon\"]\n"
    "hours = \"09:00-18:00\"\n";

TEST_CASE("the SLA credit example plan parses and survives the canonical text",
          "[projections][plan][sla-credit]") {
  const PlanSpec plan = PlanById(ParseExample("sla-credits.toml"), "bpm-business-credits");
  REQUIRE(plan.sla.has_value());
  CHECK(plan.sla->credit_cap_percent_of_fee == 30);
  CHECK(plan.sla->targets.at(0).credit_percent_of_fee == 10);
  CHECK(plan.sla->targets.at(2).credit_fixed_minor == 200000);
  CHECK(plan.sla->HasCredits());
  Result<PlanSpec> back = ParseCanonicalPlan(CanonicalToml(plan));
  REQUIRE(back.ok());
  CHECK(*back == plan);
}

TEST_CASE("plans without credits keep their canonical text free of credit keys",
          "[projections][plan][sla-credit]") {
  const PlanSpec plan = PlanById(ParseExample("bpmonline.toml"), "bpm-business");
  CHECK_FALSE(plan.sla->HasCredits());
  CHECK(CanonicalToml(plan).find("credit") == std::string::npos);
}

TEST_CASE("a credit as both a percentage and a fixed amount is refused",
          "[projections][plan][sla-credit]") {
  CheckError(Plan("", "[plan.sla]\n" + kSlaHours +
                          "\n[[plan.sla.targets]]\npriority = 1\nreaction_minutes = 60\n"
                          "credit_percent_of_fee = 10\ncredit_fixed_minor = 500000\n"),
             {"credit_fixed_minor", "percentage"});
}

TEST_CASE("a credit percentage above 100 is refused", "[projections][plan][sla-credit]") {
  CheckError(Plan("", "[plan.sla]\ncredit_cap_percent_of_fee = 130\n" + kSlaHours +
                          "\n[[plan.sla.targets]]\npriority = 1\nreaction_minutes = 60\n"),
             {"credit_cap_percent_of_fee", "130"});
}

}  // namespace
}  // namespace hourbank::projections
