// Labels (reports/labels.h): a RUB client reads Russian throughout, invoice line descriptions
// included; other clients read the descriptions as the invoice recorded them.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "reports/labels.h"

using namespace hourbank::reports;
using hourbank::projections::InvoiceLine;

namespace {
std::string Ru(const std::string& code, const std::string& description, int64_t quantity = 1) {
  return LineDescription(InvoiceLine{code, description, quantity, 0, 0}, Lang::kRu);
}
}  // namespace

TEST_CASE("a client's language follows its currency: RUB is Russian, anything else English",
          "[reports][labels]") {
  CHECK(LangFor("RUB") == Lang::kRu);
  CHECK(LangFor("USD") == Lang::kEn);
  CHECK(LangFor("EUR") == Lang::kEn);
}

TEST_CASE("month names and durations in Russian", "[reports][labels]") {
  CHECK(MonthName(202602, Lang::kRu) == "февраль 2026");
  CHECK(MonthName(202602, Lang::kEn) == "February 2026");
  CHECK(std::string(MonthShort(202612, Lang::kRu)) == "дек");
  CHECK(Duration(390, Lang::kRu) == "6 ч 30 мин");
  CHECK(Duration(0, Lang::kRu) == "0 ч");
  CHECK(Duration(-45, Lang::kRu) == "-45 мин");
  CHECK(Duration(390, Lang::kEn) == "6h30m");
}

TEST_CASE("hours beyond the plan are described in Russian with the line's minutes",
          "[reports][labels]") {
  CHECK(Ru("overage", "hours beyond the plan, 6h30m", 390) == "часы сверх тарифа, 6 ч 30 мин");
}

TEST_CASE("a per-licence fee keeps the plan's name and counts the licences in Russian",
          "[reports][labels]") {
  CHECK(Ru("fee", "Сопровождение АГБИС, 16 licences", 16) == "Сопровождение АГБИС, лицензий: 16");
  CHECK(Ru("fee", "1С: тариф «Старт»") == "1С: тариф «Старт»");
}

TEST_CASE("discounts are described in Russian: prepayment and timely conclusion",
          "[reports][labels]") {
  CHECK(Ru("discount", "prepaid 6 months −7%, timely −20%", 16) ==
        "предоплата за 6 мес. −7%, своевременное заключение −20%");
  CHECK(Ru("discount", "prepaid 12 months −20%") == "предоплата за 12 мес. −20%");
  CHECK(Ru("discount", "timely −20%") == "своевременное заключение −20%");
}

TEST_CASE("surcharge and one-off lines keep the kind id and say urgent or off-hours in Russian",
          "[reports][labels]") {
  CHECK(Ru("surcharge", "site_link off-hours (in quota)", 10) ==
        "site_link, вне рабочего времени (в пределах квоты)");
  CHECK(Ru("surcharge", "simple_integration urgent (in quota)") ==
        "simple_integration, срочно (в пределах квоты)");
  CHECK(Ru("task", "complex_integration urgent") == "complex_integration, срочно");
  CHECK(Ru("task", "complex_integration") == "complex_integration");
}

TEST_CASE("prepaid hour blocks and credits for voided entries are described in Russian",
          "[reports][labels]") {
  CHECK(Ru("hours_block", "prepaid hours 50h") == "предоплаченные часы, 50 ч");
  CHECK(Ru("credit", "credit for voided entry #42") == "возврат за аннулированную запись #42");
}

TEST_CASE("text people wrote (reasons, add-on ids) and unknown forms are kept as written",
          "[reports][labels]") {
  CHECK(Ru("penalty", "evasion: 10x the debt") == "evasion: 10x the debt");
  CHECK(Ru("addon", "altercpa-sites-40") == "altercpa-sites-40");
  CHECK(Ru("discount", "prepaid many months") == "prepaid many months");
  CHECK(Ru("credit", "credit for voided entry #x") == "credit for voided entry #x");
}

TEST_CASE("English descriptions are the invoice's own", "[reports][labels]") {
  const InvoiceLine line{"overage", "hours beyond the plan, 6h30m", 390, 200000, 1300000};
  CHECK(LineDescription(line, Lang::kEn) == "hours beyond the plan, 6h30m");
}

TEST_CASE("invoice line codes and payment sources have Russian names", "[reports][labels]") {
  CHECK(std::string(LineLabel("overage", Lang::kRu)) == "Часы сверх тарифа");
  CHECK(std::string(LineLabel("fee", Lang::kEn)) == "Subscription fee");
  CHECK(LineLabel("no-such-code", Lang::kRu) == nullptr);
  CHECK(std::string(SourceLabel(hourbank::projections::Charge::Source::kReserve, Lang::kRu)) ==
        "резерв");
}

TEST_CASE("any description, however mangled, is described without a crash", "[reports][labels]") {
  // Prefixes of the forms LineDescription reads, cut and followed by random digits and bytes.
  const char* prefixes[] = {"hours beyond the plan, ",
                            "prepaid ",
                            "prepaid 6 months \xE2\x88\x92",
                            "timely \xE2\x88\x92",
                            "credit for voided entry #",
                            "prepaid hours ",
                            "x licences",
                            " (in quota)",
                            " urgent"};
  const char* codes[] = {"overage",     "fee",       "discount", "credit",
                         "hours_block", "surcharge", "task",     "penalty"};
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::string d = prefixes[rng() % 9];
    d = d.substr(0, rng() % (d.size() + 1));
    for (size_t i = rng() % 24; i > 0; --i) d += "0123456789%, -\xE2\x88\x92#mh\xff"[rng() % 20];
    const InvoiceLine line{codes[rng() % 8], d, int64_t(rng() % 100000) - 50000, 0, 0};
    const std::string ru = LineDescription(line, Lang::kRu);
    REQUIRE((d.empty() || !ru.empty()));
    REQUIRE(LineDescription(line, Lang::kEn) == d);
  }
}
