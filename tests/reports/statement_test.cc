// Statement tests: the HTML is a well-formed, self-contained document, the chart is integer
// SVG with one bar group per month, and the figures are the ones worked out by hand in
// ../shared/TARIFFS.md (1C Start, AlterCPA Basic). Each test runs a scenario through Sim and
// reads the rendered statement.
#include "reports/statement.h"
#include "reports/json.h"
#include "reports/portal.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

// The scenarios name only the StartContract fields they set (GCC 12:
// -Wmissing-field-initializers even for designated initializers); deliberate, so silenced here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "sim.h"

using namespace hourbank;
using namespace hourbank::projections;
using namespace hourbank::reports;
using hourbank::testing::Sim;

namespace {

// ---------------------------------------------------------------------------------------
// Helpers

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

// Code points in a UTF-8 string.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == ':' || c == '.';
}

// A small XML well-formedness checker: one root element, every start tag closed by a matching
// end tag (or self-closed), attribute values quoted and free of '<', text and attribute values
// free of '<' and of '&' that does not start one of the five XML entities or a character
// reference, no duplicate attribute. Error(): "" when well-formed, else what is wrong and where.
class WellFormedChecker {
 public:
  explicit WellFormedChecker(const std::string& doc) : doc_(doc) {}

  // "" when well-formed, else what is wrong and where.
  std::string Error() {
    // Prolog: optional <!DOCTYPE name>.
    if (doc_.compare(0, 9, "<!DOCTYPE") == 0) i_ = doc_.find('>') + 1;
    while (i_ < doc_.size()) {
      std::string error = Step();
      if (!error.empty()) return error;
    }
    if (!stack_.empty()) return "unclosed <" + stack_.back() + ">";
    if (roots_ != 1) return std::to_string(roots_) + " root elements";
    return "";
  }

 private:
  std::string Step() {
    const char c = doc_[i_];
    if (c == '&') {
      if (!EntityAt(i_)) return "bare '&' in text at " + std::to_string(i_);
      ++i_;
      return "";
    }
    if (c != '<') {
      if (stack_.empty() && !std::isspace(static_cast<unsigned char>(c)))
        return "text outside the root element at " + std::to_string(i_);
      ++i_;
      return "";
    }
    if (doc_.compare(i_, 4, "<!--") == 0) {
      const size_t end = doc_.find("-->", i_ + 4);
      if (end == std::string::npos) return "unterminated comment";
      i_ = end + 3;
      return "";
    }
    return doc_.compare(i_, 2, "</") == 0 ? EndTag() : StartTag();
  }

  bool EntityAt(size_t at) const {
    static const char* kEntities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (const char* e : kEntities)
      if (doc_.compare(at, std::string(e).size(), e) == 0) return true;
    if (doc_.compare(at, 2, "&#") != 0) return false;
    size_t k = at + 2;
    const bool hex = k < doc_.size() && doc_[k] == 'x';
    if (hex) ++k;
    const size_t digits_from = k;
    while (k < doc_.size() && (std::isdigit(static_cast<unsigned char>(doc_[k])) ||
                               (hex && std::isxdigit(static_cast<unsigned char>(doc_[k])))))
      ++k;
    return k > digits_from && k < doc_.size() && doc_[k] == ';';
  }

  void SkipSpace(size_t& k) const {
    while (k < doc_.size() && std::isspace(static_cast<unsigned char>(doc_[k]))) ++k;
  }

  std::string EndTag() {
    size_t k = i_ + 2;
    while (k < doc_.size() && IsNameChar(doc_[k])) ++k;
    const std::string name = doc_.substr(i_ + 2, k - i_ - 2);
    SkipSpace(k);
    if (k >= doc_.size() || doc_[k] != '>') return "bad end tag at " + std::to_string(i_);
    if (stack_.empty() || stack_.back() != name)
      return "end tag </" + name + "> does not match <" + (stack_.empty() ? "" : stack_.back()) +
             "> at " + std::to_string(i_);
    stack_.pop_back();
    i_ = k + 1;
    return "";
  }

  std::string StartTag() {
    size_t k = i_ + 1;
    while (k < doc_.size() && IsNameChar(doc_[k])) ++k;
    const std::string name = doc_.substr(i_ + 1, k - i_ - 1);
    if (name.empty()) return "'<' that starts no tag at " + std::to_string(i_);
    std::vector<std::string> attrs;
    bool self_closed = false;
    for (;;) {
      SkipSpace(k);
      if (k >= doc_.size()) return "unterminated tag <" + name + ">";
      if (doc_[k] == '>') {
        ++k;
        break;
      }
      if (doc_.compare(k, 2, "/>") == 0) {
        self_closed = true;
        k += 2;
        break;
      }
      std::string error = Attribute(name, attrs, k);
      if (!error.empty()) return error;
    }
    if (stack_.empty()) ++roots_;
    if (!self_closed) stack_.push_back(name);
    i_ = k;
    return "";
  }

  // One name="value" of tag `name`, from k; k ends after the closing quote.
  std::string Attribute(const std::string& name, std::vector<std::string>& attrs, size_t& k) const {
    const size_t an = k;
    while (k < doc_.size() && IsNameChar(doc_[k])) ++k;
    const std::string attr = doc_.substr(an, k - an);
    if (attr.empty()) return "bad attribute in <" + name + "> at " + std::to_string(k);
    for (const std::string& a : attrs)
      if (a == attr) return "duplicate attribute " + attr + " in <" + name + ">";
    attrs.push_back(attr);
    if (k >= doc_.size() || doc_[k] != '=')
      return "attribute " + attr + " without a value in <" + name + ">";
    ++k;
    if (k >= doc_.size() || (doc_[k] != '"' && doc_[k] != '\''))
      return "unquoted attribute " + attr + " in <" + name + ">";
    const char quote = doc_[k++];
    while (k < doc_.size() && doc_[k] != quote) {
      if (doc_[k] == '<') return "'<' in attribute " + attr + " of <" + name + ">";
      if (doc_[k] == '&' && !EntityAt(k))
        return "bare '&' in attribute " + attr + " of <" + name + ">";
      ++k;
    }
    if (k >= doc_.size()) return "unterminated attribute value in <" + name + ">";
    ++k;
    return "";
  }

  const std::string& doc_;
  std::vector<std::string> stack_;
  size_t roots_ = 0;
  size_t i_ = 0;
};

std::string WellFormedError(const std::string& doc) { return WellFormedChecker(doc).Error(); }

// xmllint's verdict when it is installed: true = well-formed (or no xmllint to ask).
bool XmllintAccepts(const std::string& doc, const std::string& tag) {
  if (std::system("command -v xmllint >/dev/null 2>&1") != 0) return true;
  const auto path =
      std::filesystem::temp_directory_path() / ("hourbank-statement-" + tag + ".xhtml");
  {
    std::ofstream out(path, std::ios::binary);
    out << doc;
  }
  const std::string cmd = "xmllint --noout --nonet '" + path.string() + "' >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  std::filesystem::remove(path);
  return rc == 0;
}

// The text of the element carrying id="ID", up to its first child tag or end tag.
std::string ById(const std::string& html, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "<no id " + id + ">";
  const size_t open = html.find('>', at);
  const size_t close = html.find('<', open);
  return html.substr(open + 1, close - open - 1);
}

// The text line that starts with `prefix` (after leading spaces), or "".
std::string LineStarting(const std::string& text, const std::string& prefix) {
  for (const std::string& line : Lines(text)) {
    const size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, prefix.size(), prefix) == 0) return line;
  }
  return "";
}

std::string EndTrimmed(const std::string& line) {
  // The value column of a "label …   value" line: the text after the last run of 2+ spaces.
  const size_t at = line.rfind("  ");
  return at == std::string::npos ? line : line.substr(at + 2);
}

// ---------------------------------------------------------------------------------------
// Scenarios

// Closes the month and pays its invoice, so the client is never blocked for debt (the Sim's
// clock stands in 2030, long past every grace period).
void CloseAndPay(Sim& s, const std::string& id, uint32_t month) {
  s.Close(id, month);
  const int64_t total = s.client(id).InvoiceFor(month).total_minor;
  if (total > 0)
    s.Must(id, DecidePay(s.client(id), total, "inv-" + FormatMonth(month),
                         s.At(id, "2026-06-01T12:00"), s.now_us));
}

// The TARIFFS.md 1C Start worked example (as in scenario_test.cc), October 2025 – March 2026.
Sim OneCStartThroughMarch() {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.AddClient("c1", "RUB");
  s.Start("c1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  s.LogHours("c1", "consultation", 150, "2025-10-10T12:00",
             "T1");  // trial: 2.5 h × 2 000 = 5 000.00
  s.Accept("c1", "T1", "2025-10-20T12:00");
  CloseAndPay(s, "c1", 202510);
  s.LogHours("c1", "development", 360, "2025-11-05T12:00", "T2");  // trial: 6 h × 2 000 = 12 000.00
  s.Accept("c1", "T2", "2025-11-06T12:00");
  CloseAndPay(s, "c1", 202511);
  s.LogHours("c1", "development", 180, "2025-12-03T12:00", "T3");  // 3 h of 10: carry 7 h
  s.Accept("c1", "T3", "2025-12-04T12:00");
  CloseAndPay(s, "c1", 202512);
  s.LogHours("c1", "development", 600, "2026-01-12T12:00", "T4");  // 14 h: allowance 10, reserve 4
  s.LogHours("c1", "update", 240, "2026-01-13T12:00", "T5");
  s.Accept("c1", "T4", "2026-01-20T12:00");
  s.Accept("c1", "T5", "2026-01-21T12:00");
  s.LogHours("c1", "development", 60, "2026-01-30T12:00",
             "T6");  // accepted 2 Feb: counts in February
  CloseAndPay(s, "c1", 202601);
  s.Accept("c1", "T6", "2026-02-02T12:00");
  s.LogHours("c1", "consultation", 60, "2026-02-10T12:00", "T7");
  s.Accept("c1", "T7", "2026-02-11T12:00");
  CloseAndPay(s, "c1", 202602);
  s.LogHours("c1", "development", 1500, "2026-03-10T12:00",
             "T8");  // 25 h: 10 + 10 reserve + 5 overage
  s.Accept("c1", "T8", "2026-03-11T12:00");
  CloseAndPay(s, "c1", 202603);
  return s;
}

// The TARIFFS.md AlterCPA Basic month (as in scenario_test.cc): invoice 898.00.
Sim AlterCpaBasicMarch() {
  Sim s;
  s.DefineExample("altercpa.toml");
  s.AddClient("a1", "USD");
  s.Start("a1", {.plan_id = "altercpa-basic", .from_month = 202603, .term_months = 0});
  s.LogItems("a1", "complex_integration", 1, "2026-03-03T11:00");        // one-off 50.00
  s.LogItems("a1", "complex_integration", 1, "2026-03-03T11:00", true);  // urgent: 150.00
  s.LogItems("a1", "simple_integration", 1, "2026-03-03T11:00", true);   // slot + surcharge 30.00
  s.LogItems("a1", "site_link", 22, "2026-03-02T15:00");                 // 20 slots + 18.00
  s.LogItems("a1", "emergency", 1, "2026-03-04T20:00");  // off-hours own price 150.00
  return s;
}

// A RUB client "x1" whose name, October 2025 task, staff name and note carry markup.
Sim HostileTextClient() {
  Sim s;
  s.DefineExample("1c-start.toml");
  s.Must("x1",
         DecideRegister(s.client("x1"), {"x1", "<b>&\"x\"", "RUB", "Europe/Moscow"}, s.now_us));
  s.Start("x1", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  LogWork w;
  w.kind = "development";
  w.minutes = 60;
  w.at_us = s.At("x1", "2025-10-10T12:00");
  w.task = "<script>alert('t')</script>";
  w.staff = "O'Neil & <i>Co</i>";
  w.note = "a < b && c > d";
  s.Must("x1", DecideLog(s.client("x1"), w, s.now_us));
  s.Accept("x1", w.task, "2025-10-11T12:00");
  return s;
}

std::string Html(Sim& s, const std::string& id, uint32_t month, uint32_t months_back = 6) {
  return RenderStatementHtml(s.client(id),
                             {.month = month, .months_back = months_back, .now_us = s.now_us});
}
std::string Text(Sim& s, const std::string& id, uint32_t month, uint32_t months_back = 6) {
  return RenderStatementText(s.client(id),
                             {.month = month, .months_back = months_back, .now_us = s.now_us});
}

}  // namespace

// ---------------------------------------------------------------------------------------

TEST_CASE("the statement is well-formed: every tag closed, every attribute quoted",
          "[statement][html]") {
  // Both languages and both kinds of plan (hours, slots), checked by the built-in checker and,
  // when it is installed, by xmllint as XML.
  Sim one_c = OneCStartThroughMarch();
  Sim alter = AlterCpaBasicMarch();
  for (const std::string& html :
       {Html(one_c, "c1", 202602), Html(one_c, "c1", 202603), Html(alter, "a1", 202603)}) {
    INFO(html.substr(0, 400));
    CHECK(WellFormedError(html) == "");
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(XmllintAccepts(html, "wellformed"));
  }
}

TEST_CASE("the statement is self-contained: no scripts, no external references",
          "[statement][html]") {
  // Nothing is fetched when the file is opened or printed: no script, no URL of any scheme,
  // no src/href attributes, no CSS imports or url() fonts.
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202602);
  CHECK(Count(html, "<script") == 0);
  CHECK(Count(html, "http://") == 0);
  CHECK(Count(html, "https://") == 0);
  CHECK(Count(html, "src=") == 0);
  CHECK(Count(html, "href=") == 0);
  CHECK(Count(html, "@import") == 0);
  CHECK(Count(html, "url(") == 0);
  CHECK(Count(html, "<link") == 0);
  CHECK(Count(html, "<style>") == 1);
  CHECK(Count(html, "<svg") == 1);
}

TEST_CASE("the statement is laid out for A4 print with page-break rules", "[statement][html]") {
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202602);
  CHECK(Count(html, "@page") == 1);
  CHECK(Count(html, "size: A4") == 1);
  CHECK(Count(html, "margin:") >= 1);
  CHECK(Count(html, "page-break-inside: avoid") >= 1);
  CHECK(Count(html, "page-break-after: avoid") >= 1);
  CHECK(Count(html, "display: table-header-group") == 1);  // long tables repeat their header
}

TEST_CASE("the chart has one bar group per month since the contract started",
          "[statement][chart]") {
  // February 2026 with a six-month window: September 2025 is before the contract (October),
  // so five groups, October to February, each with its four bar kinds.
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202602, 6);
  CHECK(Count(html, "<g class=\"month\"") == 5);
  for (const char* m : {"2025-10", "2025-11", "2025-12", "2026-01", "2026-02"})
    CHECK(Count(html, std::string("data-month=\"") + m + "\"") == 1);
  CHECK(Count(html, "data-month=\"2025-09\"") == 0);
  CHECK(Count(html, "<rect class=\"included\"") == 5);
  CHECK(Count(html, "<rect class=\"used\"") == 5);
  CHECK(Count(html, "<rect class=\"overage\"") == 5);
  CHECK(Count(html, "<rect class=\"carried\"") == 5);
  CHECK(Count(html, "<rect class=\"expired\"") == 5);
  // A legend and axis labels: hours on the y axis, month names under the groups.
  CHECK(Count(html, "class=\"legend\"") == 1);
  CHECK(Count(html, ">часы</text>") == 1);
  CHECK(Count(html, ">фев</text>") == 1);
  CHECK(Count(html, ">окт</text>") == 1);
}

TEST_CASE("months_back bounds the chart to the most recent months", "[statement][chart]") {
  Sim s = OneCStartThroughMarch();
  // Three months: December, January, February.
  const std::string three = Html(s, "c1", 202602, 3);
  CHECK(Count(three, "<g class=\"month\"") == 3);
  CHECK(Count(three, "data-month=\"2025-12\"") == 1);
  CHECK(Count(three, "data-month=\"2025-11\"") == 0);
  // One month, and zero clamped up to one: just the statement month.
  CHECK(Count(Html(s, "c1", 202602, 1), "<g class=\"month\"") == 1);
  CHECK(Count(Html(s, "c1", 202602, 0), "<g class=\"month\"") == 1);
  // A huge window is clamped (24) and still never reaches before the contract: six months.
  CHECK(Count(Html(s, "c1", 202603, 1000), "<g class=\"month\"") == 6);
  // The text version's history table follows the same window.
  const std::string text = Text(s, "c1", 202602, 3);
  CHECK(Count(text, "Часы: декабрь 2025 – февраль 2026\n") == 1);
  CHECK(LineStarting(text, "декабрь 2025 ") != "");
  CHECK(LineStarting(text, "январь 2026 ") != "");
  CHECK(Count(text, "ноябрь 2025") == 0);
}

TEST_CASE("every chart coordinate is an integer", "[statement][chart]") {
  // Integer arithmetic only: each x/y/width/height/x1/y1/x2/y2 value in the SVG is digits with
  // an optional minus sign, and bars never reach above the plot area.
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202603, 6);
  const size_t svg_from = html.find("<svg"), svg_to = html.find("</svg>");
  REQUIRE(svg_from != std::string::npos);
  REQUIRE(svg_to != std::string::npos);
  const std::string svg = html.substr(svg_from, svg_to - svg_from);
  size_t checked = 0;
  for (const char* attr :
       {" x=\"", " y=\"", " width=\"", " height=\"", " x1=\"", " y1=\"", " x2=\"", " y2=\""}) {
    for (size_t at = svg.find(attr); at != std::string::npos; at = svg.find(attr, at + 1)) {
      const size_t from = at + std::string(attr).size();
      const std::string value = svg.substr(from, svg.find('"', from) - from);
      INFO(attr << value);
      CHECK(!value.empty());
      CHECK(value.find_first_not_of("-0123456789") == std::string::npos);
      if (std::string(attr) == " y=\"" || std::string(attr) == " height=\"")
        CHECK(std::stoi(value) >= 0);
      ++checked;
    }
  }
  CHECK(checked > 100);
  CHECK(Count(svg, "viewBox=\"0 0 720 300\"") == 1);
}

TEST_CASE("1C Start February 2026 shows 7h carried, 1h expired and a 20 000.00 ₽ invoice",
          "[statement][1c]") {
  // TARIFFS.md: February uses T6 (1 h, logged 30 Jan, accepted 2 Feb) + T7 (1 h) = 2 h of the
  // 10 h allowance; 8 h are left; the reserve holds 3 h, so 7 h carry (cap 10 h) and 1 h
  // expires. The fee is 20 000.00; FormatMoney writes it "20 000.00 ₽".
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202602);
  CHECK(ById(html, "glance-included") == "10 ч");
  CHECK(ById(html, "glance-used") == "2 ч");
  CHECK(ById(html, "glance-used-allowance") == "2 ч");
  CHECK(ById(html, "glance-reserve-start") == "3 ч");
  CHECK(ById(html, "glance-carried") == "7 ч");
  CHECK(ById(html, "glance-expired") == "1 ч");
  CHECK(ById(html, "glance-reserve-end") == "10 ч");
  CHECK(ById(html, "glance-overage") == "0 ч");
  CHECK(ById(html, "invoice-total") == "20 000.00 ₽");
  CHECK(ById(html, "invoice-total") == FormatMoney(2000000, "RUB"));
  CHECK(Count(html, "<tr data-code=\"fee\">") == 1);
  CHECK(Count(html, "Абонентская плата") == 1);
  CHECK(ById(html, "meta-plan") == "1С: сопровождение, тариф «Старт» (1c-start, версия 1)");
  CHECK(ById(html, "meta-client") == "Client c1 (c1)");
}

TEST_CASE("1C Start March 2026 bills 5h overage at 2 000.00 ₽ an hour: 30 000.00 ₽",
          "[statement][1c]") {
  // 25 h: allowance 10 h, reserve 10 h, overage 5 h × 2 000.00 = 10 000.00; 20 000 + 10 000.
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202603);
  CHECK(ById(html, "glance-used") == "25 ч");
  CHECK(ById(html, "glance-used-reserve") == "10 ч");
  CHECK(ById(html, "glance-overage") == "5 ч");
  CHECK(Count(html,
              "<tr data-code=\"overage\"><td>Часы сверх тарифа</td><td>часы сверх тарифа, 5 ч</td>"
              "<td class=\"num\">5 ч</td><td class=\"num\">2 000.00 ₽/ч</td>"
              "<td class=\"num\">10 000.00 ₽</td></tr>") == 1);
  CHECK(ById(html, "invoice-total") == "30 000.00 ₽");
}

TEST_CASE("the work report says who did what, when, on which task, and what paid for it",
          "[statement][work]") {
  // February 2026: T6 (development, 1 h, done 30 Jan) and T7 (consultation, 1 h, 10 Feb), both
  // by anna, both paid from the month's allowance; nothing billed per task.
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202602);
  CHECK(Count(html,
              "<td>2026-01-30 12:00</td><td>anna</td><td>T6</td><td>development</td>"
              "<td class=\"num\">1 ч</td><td>тариф 1 ч</td><td class=\"num\">—</td>") == 1);
  CHECK(Count(html, "<td>2026-02-10 12:00</td><td>anna</td><td>T7</td><td>consultation</td>") == 1);
  CHECK(Count(html, "<tfoot><tr><th>Итого</th><td colspan=\"3\"></td><td class=\"num\">2 ч</td>") ==
        1);
  // Item work (AlterCPA): counts, slots, one-off prices and flags.
  Sim a = AlterCpaBasicMarch();
  const std::string usd = Html(a, "a1", 202603);
  CHECK(Count(usd,
              "<td>boris</td><td>I<br/><small>urgent</small></td><td>complex_integration</td>"
              "<td class=\"num\">1 item</td><td>one-off</td><td class=\"num\">$150.00</td>") == 1);
  CHECK(Count(usd,
              "<td class=\"num\">22 items</td><td>slot site ×20, one-off ×2</td><td "
              "class=\"num\">$18.00</td>") == 1);
}

TEST_CASE("AlterCPA Basic March 2026 shows the 898.00 invoice and the slots used per pool",
          "[statement][altercpa]") {
  // 500 + 50 + 150 + 30 + 18 + 150 = 898.00; sites: 20 of 20 slots; simple integrations 1 of 20.
  Sim s = AlterCpaBasicMarch();
  const std::string html = Html(s, "a1", 202603);
  CHECK(ById(html, "invoice-total") == "$898.00");
  CHECK(Count(html, "<tr data-code=\"fee\"><td>Subscription fee</td>") == 1);
  CHECK(Count(html, "<td class=\"num\">$500.00</td></tr>") >= 1);
  CHECK(
      Count(html,
            "<tr data-pool=\"site\"><td>site</td><td class=\"num\">20</td><td class=\"num\">20</td>"
            "<td class=\"num\">0</td></tr>") == 1);
  CHECK(Count(html,
              "<tr data-pool=\"simple_integration\"><td>simple_integration</td><td "
              "class=\"num\">20</td>"
              "<td class=\"num\">1</td><td class=\"num\">19</td></tr>") == 1);
  // The month is not closed: the invoice says it is projected.
  CHECK(ById(html, "invoice-status") == "projected: the month is still open");
}

TEST_CASE("user text is escaped: a client name like <b>&\"x\" shows as text", "[statement][html]") {
  // The name, a task and a staff name carry markup; none of it reaches the document as markup.
  Sim s = HostileTextClient();
  const std::string html = Html(s, "x1", 202510);
  CHECK(Count(html, "&lt;b&gt;&amp;&quot;x&quot;") >= 2);  // title and header
  CHECK(Count(html, "<b>") == 0);
  CHECK(Count(html, "<script") == 0);
  CHECK(Count(html, "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;") == 1);
  CHECK(Count(html, "O&#39;Neil &amp; &lt;i&gt;Co&lt;/i&gt;") == 1);
  CHECK(Count(html, "a &lt; b &amp;&amp; c &gt; d") == 1);
  CHECK(WellFormedError(html) == "");
  CHECK(XmllintAccepts(html, "escape"));
  // The text version shows the name as typed.
  CHECK(Count(Text(s, "x1", 202510), "<b>&\"x\" (x1)") == 1);
}

TEST_CASE("control characters and invalid UTF-8 in user text do not break the document",
          "[statement][html]") {
  // XML forbids most control characters and needs valid UTF-8: both become U+FFFD.
  Sim s;
  s.DefineExample("altercpa.toml");
  s.Must("z1",
         DecideRegister(s.client("z1"),
                        {"z1", std::string("Bad\x01name\xff\xfe end"), "USD", "UTC"}, s.now_us));
  s.Start("z1", {.plan_id = "altercpa-basic", .from_month = 202603});
  const std::string html = Html(s, "z1", 202603);
  CHECK(Count(html, "Bad\xEF\xBF\xBDname\xEF\xBF\xBD\xEF\xBF\xBD end") >= 1);
  CHECK(Count(html, "\x01") == 0);
  CHECK(WellFormedError(html) == "");
  CHECK(XmllintAccepts(html, "utf8"));
}

TEST_CASE("a RUB client's statement is in Russian with Russian month names", "[statement][lang]") {
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202510);
  CHECK(Count(html, "<html lang=\"ru\">") == 1);
  CHECK(Count(html, "<h1>Отчёт за октябрь 2025</h1>") == 1);
  CHECK(Count(html, "Банк часов — кратко") == 1);
  CHECK(Count(html, ">Счёт — октябрь 2025</h2>") == 1);
  CHECK(Count(html, "Пробный месяц") == 1);  // October is a trial month
  CHECK(Count(html, "Invoice") == 0);
  CHECK(Count(Html(s, "c1", 202602), "<h1>Отчёт за февраль 2026</h1>") == 1);
}

TEST_CASE("a USD client's statement is in English with English month names", "[statement][lang]") {
  Sim s = AlterCpaBasicMarch();
  const std::string html = Html(s, "a1", 202603);
  CHECK(Count(html, "<html lang=\"en\">") == 1);
  CHECK(Count(html, "<h1>Statement for March 2026</h1>") == 1);
  CHECK(Count(html, "The hour bank at a glance") == 1);
  CHECK(Count(html, ">Invoice — March 2026</h2>") == 1);
  CHECK(Count(html, "Счёт") == 0);
  CHECK(Count(html, "март") == 0);
}

TEST_CASE("the text statement shows the same totals as the HTML", "[statement][text]") {
  // February 2026 (1C Start): carried 7 h, expired 1 h, used 2 h, invoice 20 000.00 ₽ — the
  // value column of each text line equals the HTML cell.
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202602);
  const std::string text = Text(s, "c1", 202602);
  CHECK(EndTrimmed(LineStarting(text, "Перенесено в резерв")) == ById(html, "glance-carried"));
  CHECK(EndTrimmed(LineStarting(text, "Сгорело")) == ById(html, "glance-expired"));
  CHECK(EndTrimmed(LineStarting(text, "Использовано")) == ById(html, "glance-used"));
  CHECK(EndTrimmed(LineStarting(text, "Итого к оплате")) == "20 000.00 ₽");
  CHECK(EndTrimmed(LineStarting(text, "Итого к оплате")) == ById(html, "invoice-total"));
  // AlterCPA: $898.00 in both.
  Sim a = AlterCpaBasicMarch();
  CHECK(EndTrimmed(LineStarting(Text(a, "a1", 202603), "Total due")) == "$898.00");
  CHECK(ById(Html(a, "a1", 202603), "invoice-total") == "$898.00");
}

TEST_CASE("no line of the text statement is longer than 100 characters", "[statement][text]") {
  // Long user text (a 200-character name, a 200-character task, a long note) is cut with "…";
  // Cyrillic counts one column per letter, not per byte.
  Sim s = OneCStartThroughMarch();
  s.AddClient("long", "RUB");
  s.Start("long", {.plan_id = "1c-start", .from_month = 202510, .term_months = 12});
  LogWork w;
  w.kind = "development";
  w.minutes = 61;
  w.at_us = s.At("long", "2025-10-10T12:00");
  w.task = std::string(200, 'T');
  w.staff = "Анастасия Константинопольская";
  w.note = std::string(1500, 'n');
  s.Must("long", DecideLog(s.client("long"), w, s.now_us));
  s.Accept("long", w.task, "2025-10-11T12:00");
  Sim a = AlterCpaBasicMarch();
  for (const std::string& text : {Text(s, "c1", 202602), Text(s, "c1", 202603),
                                  Text(s, "long", 202510), Text(a, "a1", 202603)}) {
    for (const std::string& line : Lines(text)) {
      INFO(line);
      CHECK(Width(line) <= 100);
    }
  }
  CHECK(Count(Text(s, "long", 202510), "TTTT…") == 1);
}

TEST_CASE("the text statement aligns its columns", "[statement][text]") {
  // Every row of the invoice table ends its amount in the same column as the header's "Сумма".
  Sim s = OneCStartThroughMarch();
  const std::string text = Text(s, "c1", 202603);
  const std::string header = LineStarting(text, "Позиция");
  REQUIRE(!header.empty());
  const size_t right = Width(header);
  for (const char* row : {"Абонентская плата", "Часы сверх тарифа", "Итого к оплате"}) {
    INFO(row);
    CHECK(Width(LineStarting(text, row)) == right);
  }
  CHECK(EndTrimmed(LineStarting(text, "Часы сверх тарифа")) == "10 000.00 ₽");
}

TEST_CASE("prepaid hours left after the month appear at a glance", "[statement][kit]") {
  // KIT option 3: a 50 h block, 20 h used in January: 30 h left, nothing expires.
  Sim s;
  s.DefineExample("kit.toml");
  s.AddClient("k2", "RUB");
  s.Start("k2", {.plan_id = "kit-prepaid", .from_month = 202601});
  s.Must("k2",
         DecideBuyHours(
             s.client("k2"),
             {.minutes = 3000, .price_minor = 10000000, .at_us = s.At("k2", "2026-01-05T10:00")},
             s.now_us));
  s.LogHours("k2", "support", 1200, "2026-01-14T12:00");
  const std::string html = Html(s, "k2", 202601);
  CHECK(ById(html, "glance-used-blocks") == "20 ч");
  CHECK(ById(html, "glance-blocks-left") == "30 ч");
  CHECK(ById(html, "glance-expired") == "0 ч");
  CHECK(WellFormedError(html) == "");
}

TEST_CASE("the SLA section reports incidents and compliance when the plan has an SLA",
          "[statement][sla]") {
  // bpmonline Basic: P1 reaction within 24 service hours (Mon–Fri 10–18 Moscow = 3 working
  // days). INC-1 opened Monday 12 Jan 10:00, answered 11:00: 1 h, met. INC-2 opened Monday
  // 12 Jan 10:00, answered Monday 19 Jan 10:00: 5 working days = 40 h, breached.
  // Compliance (2 − 1) × 10000 / 2 = 5000 basis points = 50.00%.
  Sim s;
  s.DefineExample("bpmonline.toml");
  s.AddClient("b1", "RUB");
  s.Start("b1", {.plan_id = "bpm-basic", .from_month = 202601, .term_months = 12});
  auto incident = [&](IncidentAction action, const std::string& id, const std::string& at) {
    s.Must("b1", DecideIncident(s.client("b1"), action, id, 1, "title", s.At("b1", at), s.now_us));
  };
  incident(IncidentAction::kOpen, "INC-1", "2026-01-12T10:00");
  incident(IncidentAction::kRespond, "INC-1", "2026-01-12T11:00");
  incident(IncidentAction::kOpen, "INC-2", "2026-01-12T10:00");
  incident(IncidentAction::kRespond, "INC-2", "2026-01-19T10:00");
  const std::string html = Html(s, "b1", 202601);
  CHECK(ById(html, "sla-summary") == "обращений: 2, с нарушением: 1, соблюдение SLA 50.00%");
  CHECK(Count(html,
              "<td>INC-1</td><td>P1</td><td class=\"nowrap\">2026-01-12 10:00</td><td>1 ч "
              "(норматив 24 ч)</td>") == 1);
  CHECK(Count(html,
              "<td>INC-2</td><td>P1</td><td class=\"nowrap\">2026-01-12 10:00</td><td>40 ч "
              "(норматив 24 ч)</td>") == 1);
  CHECK(Count(html, "<td class=\"breached\">нарушено</td>") == 1);
  CHECK(Count(Text(s, "b1", 202601), "соблюдение SLA 50.00%") == 1);
  CHECK(WellFormedError(html) == "");
  // A plan without an SLA has no SLA section.
  Sim one_c = OneCStartThroughMarch();
  CHECK(Count(Html(one_c, "c1", 202602), "Уровень сервиса") == 0);
}

TEST_CASE("a month outside the contract still renders, saying so", "[statement][html]") {
  // September 2025 is before the 1C contract: no plan, no figures, a note, a valid document.
  Sim s = OneCStartThroughMarch();
  const std::string html = Html(s, "c1", 202509);
  CHECK(Count(html, "Этот месяц не покрыт договором.") == 1);
  CHECK(ById(html, "invoice-total") == "0.00 ₽");
  CHECK(Count(html, "<g class=\"month\"") == 1);
  CHECK(WellFormedError(html) == "");
}

TEST_CASE("the statement code uses no floating point", "[statement][style]") {
  // House rule: money and geometry are integers. The source of the statement names no
  // floating-point type.
  const std::string source =
      hourbank::testing::ReadFile(std::string(HOURBANK_SOURCE_DIR) + "/reports/statement.cc");
  REQUIRE(!source.empty());
  CHECK(Count(source, "double") == 0);
  CHECK(Count(source, "float") == 0);
}

TEST_CASE("example statements are written out for a look by eye", "[.][dump]") {
  // Hidden (run with "[dump]"): writes the worked examples as .html and .txt into
  // $HOURBANK_STATEMENT_DUMP_DIR (default: the temp directory) for a browser or a screenshot.
  const char* env = std::getenv("HOURBANK_STATEMENT_DUMP_DIR");
  const std::filesystem::path dir =
      env ? std::filesystem::path(env) : std::filesystem::temp_directory_path();
  Sim one_c = OneCStartThroughMarch();
  Sim alter = AlterCpaBasicMarch();
  const struct {
    Sim* sim;
    const char* id;
    uint32_t month;
    const char* name;
  } examples[] = {
      {&one_c, "c1", 202602, "1c-start-2026-02"},
      {&one_c, "c1", 202603, "1c-start-2026-03"},
      {&alter, "a1", 202603, "altercpa-basic-2026-03"},
  };
  for (const auto& e : examples) {
    std::ofstream(dir / (std::string(e.name) + ".html"), std::ios::binary)
        << Html(*e.sim, e.id, e.month);
    std::ofstream(dir / (std::string(e.name) + ".txt"), std::ios::binary)
        << Text(*e.sim, e.id, e.month);
  }
  SUCCEED("written to " << dir.string());
}

// ---------------------------------------------------------------------------------------
// The forecast section (issue 17.3): the run-out days of the month's buckets, from the
// Forecast the caller made (its arithmetic is tested in forecast_test.cc; here, what shows).

namespace {

// A forecast for March 2026 made on 15 March, as forecast_test.cc's KIT 15 h case works out:
// 6 h of allowance left, gone on 21 March; a 2 h block #40 gone on 22 March; no reserve.
Forecast MarchForecast() {
  Forecast f;
  f.client = "c1";
  f.currency = "RUB";
  f.month = 202603;
  f.today = 20260315;
  f.in_contract = true;
  f.window_from = 20260215, f.window_to = 20260314, f.window_days = 28, f.window_minutes = 1680;
  f.allowance_left_minutes = 360, f.allowance_runs_out_on = 20260321;
  f.blocks.push_back({.seq = 40, .left_minutes = 120, .runs_out_on = 20260322});
  f.expected_overage_minutes = 600, f.expected_overage_minor = 2550000;
  f.overage_starts_on = 20260322;
  return f;
}

// The cells of the table row with that id.
std::string RowById(const std::string& html, const std::string& id) {
  const size_t at = html.find("<tr id=\"" + id + "\">");
  if (at == std::string::npos) return "<no row " + id + ">";
  const size_t open = html.find('>', at) + 1;
  return html.substr(open, html.find("</tr>", open) - open);
}

StatementOptions WithForecast(Sim& s, uint32_t month) {
  return {.month = month, .months_back = 6, .now_us = s.now_us, .forecast = MarchForecast()};
}

}  // namespace

TEST_CASE("the statement of the forecast's month shows each bucket's run-out day, in Russian",
          "[statement][forecast]") {
  Sim s = OneCStartThroughMarch();
  const std::string html = RenderStatementHtml(s.client("c1"), WithForecast(s, 202603));
  CHECK(Count(html, "<section class=\"forecast keep\" id=\"forecast\">") == 1);
  CHECK(Count(html, "<h2>Прогноз на 2026-03-15</h2>") == 1);
  CHECK(RowById(html, "forecast-allowance") ==
        "<td>часы тарифа</td><td class=\"num\">6 ч</td><td>2026-03-21</td>");
  CHECK(RowById(html, "forecast-reserve") == "<td>резерв</td><td class=\"num\">0 ч</td><td>-</td>");
  CHECK(RowById(html, "forecast-block-40") ==
        "<td>пакет №40</td><td class=\"num\">2 ч</td><td>2026-03-22</td>");
  // 10 h overage at KIT 15's 2 550.00 an hour = 25 500.00, from 22 March.
  CHECK(ById(html, "forecast-overage").find("25 500.00") != std::string::npos);
  CHECK(ById(html, "forecast-overage").find("2026-03-22") != std::string::npos);
  CHECK(WellFormedError(html).empty());
  const std::string text = RenderStatementText(s.client("c1"), WithForecast(s, 202603));
  CHECK(text.find("Прогноз на 2026-03-15") != std::string::npos);
  CHECK(EndTrimmed(LineStarting(text, "часы тарифа")) == "2026-03-21");
}

TEST_CASE("a statement of another month than the forecast's has no forecast section",
          "[statement][forecast]") {
  Sim s = OneCStartThroughMarch();
  CHECK(Count(RenderStatementHtml(s.client("c1"), WithForecast(s, 202602)), "forecast") == 0);
  CHECK(Count(RenderStatementText(s.client("c1"), WithForecast(s, 202602)), "Прогноз") == 0);
  CHECK(Count(Html(s, "c1", 202603), "id=\"forecast\"") == 0);  // no forecast given
}

// ---------------------------------------------------------------------------------------
// The client portal page (reports/portal.h, issue 17.5): the same escaping and self-containment
// as the statement, and the balance API's figures.

TEST_CASE("the portal shows the balance figures, each tagged with its balance JSON key",
          "[portal]") {
  // 1C Start, 15 March 2026 (TARIFFS.md): 10 h included; T8's 25 h are accepted on 11 March
  // and drawn 10 h allowance, 10 h reserve, 5 h overage, so 0 h of allowance is left.
  Sim s = OneCStartThroughMarch();
  const int64_t at = s.At("c1", "2026-03-15T12:00");
  const nlohmann::json b = BalanceJson(s.client("c1"), at);
  const std::string html = RenderPortalHtml(s.client("c1"), {.now_us = at});
  auto figure = [&](const std::string& key) {
    const size_t pos = html.find("data-figure=\"" + key + "\" data-value=\"");
    if (pos == std::string::npos) return std::string("<none>");
    const size_t from = html.find("data-value=\"", pos) + 12;
    return html.substr(from, html.find('"', from) - from);
  };
  CHECK(figure("allowance.included_minutes") == "600");
  CHECK(figure("allowance.left_minutes") == "0");
  CHECK(figure("overage_minutes") == "300");
  CHECK(figure("allowance.left_minutes") ==
        std::to_string(b["allowance"]["left_minutes"].get<int64_t>()));
  CHECK(figure("reserve_minutes") == std::to_string(b["reserve_minutes"].get<int64_t>()));
  CHECK(figure("invoice_so_far_minor") == std::to_string(b["invoice_so_far_minor"].get<int64_t>()));
  CHECK(Count(html, "<h1>Личный кабинет — Client c1</h1>") == 1);  // RUB: Russian
  CHECK(WellFormedError(html) == "");
}

TEST_CASE("the portal escapes user text and fetches nothing from elsewhere", "[portal]") {
  Sim s = HostileTextClient();
  const int64_t at = s.At("x1", "2025-10-20T12:00");
  PortalOptions o{.now_us = at};
  o.statement_months = PortalStatementMonths(s.client("x1"), at);
  const std::string html = RenderPortalHtml(s.client("x1"), o);
  CHECK(Count(html, "&lt;b&gt;&amp;&quot;x&quot;") >= 2);  // title and header
  CHECK(Count(html, "<b>") == 0);
  CHECK(Count(html, "<script") == 0);
  CHECK(Count(html, "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;") == 1);
  CHECK(WellFormedError(html) == "");
  CHECK(XmllintAccepts(html, "portal"));
  for (const char* external : {"http://", "https://", "src=", "@import", "url(", "<link"})
    CHECK(Count(html, external) == 0);
  // the only links: the statements of the contract's months so far (October 2025)
  CHECK(Count(html, "href=") == 1);
  CHECK(Count(html, "<a href=\"/portal/statement/2025-10\">") == 1);
  const std::string refusal = RenderPortalError(403, "no <b>", Lang::kEn);
  CHECK(Count(refusal, "no &lt;b&gt;") == 1);
  CHECK(WellFormedError(refusal) == "");
}
