// The import parser (tools/hourbank/import/csv.cc): RFC 4180 structure, the limits, header mapping
// per format, and per-row errors. Pure functions: no ledger, no files.
#include <catch2/catch.hpp>

#include <string>

#include "tools/hourbank/import/csv.h"

namespace hourbank::cli {
namespace {

using Catch::Matchers::Contains;
using projections::Zone;

Zone Moscow() { return Zone::Find("Europe/Moscow").value(); }

std::vector<CsvRecord> Csv(std::string_view text) {
  auto r = ParseCsv(text);
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string CsvError(std::string_view text, const CsvLimits& limits = {}) {
  auto r = ParseCsv(text, limits);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

TEST_CASE("quoted fields keep separators, doubled quotes and newlines", "[import][csv]") {
  const auto records = Csv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\nlast,,\n");
  REQUIRE(records.size() == 3);
  CHECK(records[1].fields == std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"});
  CHECK(records[2].fields == std::vector<std::string>{"last", "", ""});
}

TEST_CASE("a record's line is where it starts, after multi-line quoted fields", "[import][csv]") {
  const auto records = Csv("h1,h2\n\"a\nb\nc\",1\n\nd,2\r\ne,3\r\n");
  REQUIRE(records.size() == 4);
  CHECK(records[0].line == 1);
  CHECK(records[1].line == 2);
  CHECK(records[2].line == 6);  // line 5 is blank
  CHECK(records[3].line == 7);
}

TEST_CASE("a byte order mark is dropped and the last line may lack a newline", "[import][csv]") {
  const auto records =
      Csv("\xEF\xBB\xBF"
          "date,duration\n2026-03-02,1h");
  REQUIRE(records.size() == 2);
  CHECK(records[0].fields[0] == "date");
  CHECK(records[1].fields[1] == "1h");
}

TEST_CASE("semicolons separate when the header has no commas", "[import][csv]") {
  const auto records = Csv("date;duration\n2026-03-02;\"1,5\"\n");
  REQUIRE(records.size() == 2);
  CHECK(records[1].fields == std::vector<std::string>{"2026-03-02", "1,5"});
}

TEST_CASE("an unterminated quote is not CSV, naming the line it opened on", "[import][csv]") {
  CHECK_THAT(CsvError("a,b\n1,\"open\n\n"), Contains("not CSV: line 2"));
}

TEST_CASE("text after a closing quote is not CSV", "[import][csv]") {
  CHECK_THAT(CsvError("a,b\n\"x\"y,1\n"), Contains("after a closing quote"));
}

TEST_CASE("a quote inside an unquoted field is not CSV", "[import][csv]") {
  CHECK_THAT(CsvError("a,b\nx\"y,1\n"), Contains("quote inside an unquoted field"));
}

TEST_CASE("NUL bytes and invalid UTF-8 are refused with the line", "[import][csv]") {
  CHECK_THAT(CsvError(std::string_view("a,b\n1,\0\n", 7)), Contains("NUL byte on line 2"));
  CHECK_THAT(CsvError("a,b\n\n1,\xC3\x28\n"), Contains("not UTF-8 text: line 3"));
  CHECK_THAT(CsvError("a,b\n1,\xED\xA0\x80\n"), Contains("not UTF-8"));  // a surrogate
}

TEST_CASE("overlong UTF-8 forms and code points above U+10FFFF are refused, real ones kept",
          "[import][csv]") {
  CHECK_THAT(CsvError("a,b\n1,\xC0\xAF\n"),
             Contains("not UTF-8 text: line 2"));  // '/' in two bytes
  CHECK_THAT(CsvError("a,b\n1,\xE0\x82\xA9\n"),
             Contains("not UTF-8 text: line 2"));  // U+00A9 in three bytes
  CHECK_THAT(CsvError("a,b\n1,\xF0\x80\x80\xAF\n"),
             Contains("not UTF-8 text: line 2"));  // '/' in four bytes
  CHECK_THAT(CsvError("a,b\n1,\xF4\x90\x80\x80\n"),
             Contains("not UTF-8 text: line 2"));           // U+110000
  const auto ok = Csv("a,b\n\xC2\xA9,\xF0\x9F\x98\x80\n");  // U+00A9 in two bytes, U+1F600 in four
  REQUIRE(ok.size() == 2);
  CHECK(ok[1].fields == std::vector<std::string>{"\xC2\xA9", "\xF0\x9F\x98\x80"});
}

TEST_CASE("the limits on file size, rows and field size are enforced", "[import][csv]") {
  CsvLimits limits;
  limits.file_bytes_max = 8;
  CHECK(ParseCsv("a,b\n1,2\n3,4\n", limits).error().code == Code::kLimit);
  limits = {};
  limits.rows_max = 2;
  CHECK(ParseCsv("a\n1\n2\n", limits).ok());
  CHECK_THAT(CsvError("a\n1\n2\n3\n", limits), Contains("more than 2 rows"));
  limits = {};
  limits.field_bytes_max = 4;
  CHECK(ParseCsv("a\nabcd\n", limits).ok());
  CHECK_THAT(CsvError("a\nabcde\n", limits), Contains("line 2: a field is longer"));
  CHECK_THAT(CsvError("a\n\"abcdefgh\n", limits), Contains("a field is longer"));
}

TEST_CASE("durations: clock, decimal hours and the generic units", "[import][duration]") {
  using F = TimesheetFormat;
  CHECK(ParseImportDurationMinutes("1:30", F::kKimai).value() == 90);
  CHECK(ParseImportDurationMinutes("01:30:00", F::kToggl).value() == 90);
  CHECK(ParseImportDurationMinutes("00:20:30", F::kToggl).value() ==
        21);  // half a minute rounds up
  CHECK(ParseImportDurationMinutes("00:20:29", F::kToggl).value() == 20);
  CHECK(ParseImportDurationMinutes("1.5", F::kHarvest).value() == 90);
  CHECK(ParseImportDurationMinutes("0.33", F::kHarvest).value() == 20);  // 19.8 minutes
  CHECK(ParseImportDurationMinutes("2", F::kHarvest).value() == 120);
  CHECK(ParseImportDurationMinutes("1h30m", F::kGeneric).value() == 90);
  CHECK(ParseImportDurationMinutes("0:45", F::kGeneric).value() == 45);
}

TEST_CASE("zero, rounding-to-zero, malformed and over-a-day durations are refused",
          "[import][duration]") {
  using F = TimesheetFormat;
  CHECK(ParseImportDurationMinutes("0:00", F::kKimai).error().message ==
        "duration '0:00' must be more than zero");
  CHECK_THAT(ParseImportDurationMinutes("00:00:20", F::kToggl).error().message,
             Contains("rounds to 0 minutes"));
  CHECK_THAT(ParseImportDurationMinutes("0m", F::kGeneric).error().message,
             Contains("must be more than zero"));
  CHECK_THAT(ParseImportDurationMinutes("-1:00", F::kKimai).error().message, Contains("is not"));
  CHECK_THAT(ParseImportDurationMinutes("1:75", F::kKimai).error().message, Contains("is not"));
  CHECK_THAT(ParseImportDurationMinutes("1,5", F::kHarvest).error().message, Contains("is not"));
  CHECK_THAT(ParseImportDurationMinutes("90", F::kGeneric).error().message,
             Contains("duration '90'"));
  CHECK_THAT(ParseImportDurationMinutes("25:00", F::kKimai).error().message,
             Contains("more than 24 hours"));
  CHECK_THAT(ParseImportDurationMinutes("", F::kKimai).error().message, Contains("empty"));
}

TEST_CASE("toggl rows map user, task, description and the start in the client's zone",
          "[import][toggl]") {
  const auto rows = ParseTimesheet(
      "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End "
      "time,Duration,Tags\n"
      "Anna,a@x,Acme,Sup,T-1,\"Fix, then "
      "test\",Yes,2026-03-02,09:15:00,2026-03-02,10:45:00,01:30:00,\n",
      TimesheetFormat::kToggl, Moscow());
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  const ImportRow& r = rows->at(0);
  CHECK(r.error.empty());
  CHECK(r.line == 2);
  CHECK(r.minutes == 90);
  CHECK(r.at_us == projections::ParseTime("2026-03-02T06:15:00Z", Zone::Utc()).value());
  CHECK(r.staff == "Anna");
  CHECK(r.task == "T-1");
  CHECK(r.note == "Fix, then test");
  CHECK(r.kind.empty());
}

TEST_CASE("harvest rows join first and last name and a date alone is local noon",
          "[import][harvest]") {
  const auto rows = ParseTimesheet(
      "Date,Client,Project,Project Code,Task,Notes,Hours,Billable?,Invoiced?,First Name,Last Name\n"
      "2026-03-09,Acme,P,C,Support,Cert renewal,1.5,Yes,No,Anna,Petrova\n",
      TimesheetFormat::kHarvest, Moscow());
  REQUIRE(rows.ok());
  const ImportRow& r = rows->at(0);
  CHECK(r.error.empty());
  CHECK(r.staff == "Anna Petrova");
  CHECK(r.minutes == 90);
  CHECK(r.at_us == projections::ParseTime("2026-03-09T09:00:00Z", Zone::Utc()).value());
}

TEST_CASE("kimai rows read From as the start and Activity as the task", "[import][kimai]") {
  const auto rows = ParseTimesheet(
      "Date,From,To,Duration,Rate,User,Customer,Project,Activity,Description\n"
      "2026-03-16,10:00,11:30,1:30,3825.00,anna,Acme,Support,Support,Migration prep\n",
      TimesheetFormat::kKimai, Moscow());
  REQUIRE(rows.ok());
  const ImportRow& r = rows->at(0);
  CHECK(r.error.empty());
  CHECK(r.task == "Support");
  CHECK(r.at_us == projections::ParseTime("2026-03-16T07:00:00Z", Zone::Utc()).value());
}

TEST_CASE("headers match without regard to case, spaces or column order", "[import][header]") {
  const auto rows = ParseTimesheet(" NOTE ,Duration,DATE\nhello,45m,2026-03-02T10:00\n",
                                   TimesheetFormat::kGeneric, Moscow());
  REQUIRE(rows.ok());
  CHECK(rows->at(0).minutes == 45);
  CHECK(rows->at(0).note == "hello");
}

TEST_CASE("a header missing required columns is refused naming them", "[import][header]") {
  const auto rows = ParseTimesheet("User,Description,Start date\nA,B,2026-03-02\n",
                                   TimesheetFormat::kToggl, Moscow());
  REQUIRE_FALSE(rows.ok());
  CHECK_THAT(rows.error().message, Contains("lacks columns 'Start time', 'Duration'"));
  CHECK_THAT(rows.error().message, Contains("found: User, Description, Start date"));
}

TEST_CASE("an empty file is refused", "[import][header]") {
  CHECK_FALSE(ParseTimesheet("", TimesheetFormat::kGeneric, Moscow()).ok());
  CHECK_FALSE(ParseTimesheet("\n\r\n", TimesheetFormat::kGeneric, Moscow()).ok());
}

TEST_CASE("bad rows carry their reason and line while good rows still parse", "[import][rows]") {
  const auto rows = ParseTimesheet(
      "date,duration,kind\n"
      "2026-03-02T10:00,1h,support\n"
      "2026-02-30,1h,support\n"
      "2026-03-02,0:00,support\n"
      "2026-03-02,1h\n"
      "2026-03-02,1h,development,,,\n",
      TimesheetFormat::kGeneric, Moscow());
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 5);
  CHECK(rows->at(0).error.empty());
  CHECK(rows->at(1).line == 3);
  CHECK_FALSE(rows->at(1).error.empty());
  CHECK(rows->at(2).error == "duration '0:00' must be more than zero");
  CHECK(rows->at(3).error == "2 fields, the header has 3");
  CHECK(rows->at(4).error.empty());  // trailing empty fields are tolerated
  CHECK(rows->at(4).kind == "development");
}

TEST_CASE("dates that are not YYYY-MM-DD and bad times are row errors", "[import][rows]") {
  const auto rows = ParseTimesheet(
      "Date,From,Duration\n03/02/2026,10:00,1:00\n2026-03-02,25:00,1:00\n2026-03-02,,1:00\n",
      TimesheetFormat::kKimai, Moscow());
  REQUIRE(rows.ok());
  CHECK(rows->at(0).error == "date '03/02/2026' is not YYYY-MM-DD");
  CHECK_FALSE(rows->at(1).error.empty());
  CHECK(rows->at(2).error.empty());  // From is optional: noon
}

TEST_CASE("format names", "[import]") {
  CHECK(ParseTimesheetFormat("toggl").value() == TimesheetFormat::kToggl);
  CHECK_THAT(ParseTimesheetFormat("Toggl").error().message,
             Contains("use generic, toggl, harvest or kimai"));
}

}  // namespace
}  // namespace hourbank::cli
