// Request parsing of `hourbank serve` against hostile input (issue 14, items 1 and 2):
// tools/hourbank/server/requests.cc compiled in, no server.
#include <catch2/catch.hpp>

#include <string>

#include "tools/hourbank/app.h"
#include "tools/hourbank/server/requests.h"

using namespace hourbank::cli;
using nlohmann::json;

namespace {

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const CommandError& e) {
    return e.error.message;
  }
  return "";
}

}  // namespace

TEST_CASE("well-formed UTF-8 is accepted, ASCII and multi-byte alike") {
  CHECK(ValidUtf8(""));
  CHECK(ValidUtf8("acme"));
  CHECK(ValidUtf8("\xd0\x9e\xd0\x9e\xd0\x9e"));  // ООО
  CHECK(ValidUtf8("\xe2\x82\xac"));              // €
  CHECK(ValidUtf8("\xf0\x9f\x98\x80"));          // U+1F600
}

TEST_CASE(
    "invalid UTF-8 is refused: stray bytes, truncation, overlongs, surrogates, beyond U+10FFFF") {
  CHECK_FALSE(ValidUtf8("\xff"));
  CHECK_FALSE(ValidUtf8("a\x80"));
  CHECK_FALSE(ValidUtf8("\xc3"));  // truncated
  CHECK_FALSE(ValidUtf8("\xc3\x28"));
  CHECK_FALSE(ValidUtf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(ValidUtf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(ValidUtf8("\xed\xa0\x80"));      // U+D800 surrogate
  CHECK_FALSE(ValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(ValidUtf8("\xf0\x9f\x98"));      // truncated 4-byte
}

TEST_CASE("an escaped echo keeps printable UTF-8 and shows every other byte as \\xNN") {
  CHECK(Escaped("acme") == "acme");
  CHECK(Escaped("\xff") == "\\xFF");
  CHECK(Escaped("a\nb") == "a\\x0Ab");
  CHECK(Escaped("\xd0\x9e\xc3") == "\xd0\x9e\\xC3");
  const std::string long_text(1000, 'x');
  CHECK(Escaped(long_text, 10).size() < 20);
  CHECK(ValidUtf8(Escaped("\xff\xfe\xed\xa0\x80\x01")));
}

TEST_CASE("a path segment or query value that is not UTF-8 is a 400 quoting it escaped") {
  const std::string seg = ErrorOf([] { RequireUtf8(SplitPath("/v1/clients/%FF/balance"), {}); });
  CHECK(seg.find("\\xFF") != std::string::npos);
  CHECK(ValidUtf8(seg));
  const std::string q = ErrorOf([] { RequireUtf8({"v1"}, ParseQuery("as_of=%C3%28")); });
  CHECK(q.find("as_of") != std::string::npos);
  CHECK(ValidUtf8(q));
  CHECK(ErrorOf([] {
          RequireUtf8(SplitPath("/v1/clients/%D0%9E/balance"), ParseQuery("as_of=2026-03"));
        }).empty());
}

TEST_CASE("a body nested deeper than 32 levels is refused before parsing, 32 is accepted") {
  const std::string deep = "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(ErrorOf([&] { (void)ParseJsonObject(deep); }).find("deeper than 32") != std::string::npos);
  const std::string ok = "{\"x\":" + std::string(31, '[') + std::string(31, ']') + "}";
  CHECK(ErrorOf([&] { (void)ParseJsonObject(ok); }).empty());
  const std::string over = "{\"x\":" + std::string(32, '[') + std::string(32, ']') + "}";
  CHECK_FALSE(ErrorOf([&] { (void)ParseJsonObject(over); }).empty());
}

TEST_CASE("brackets inside strings do not count as nesting") {
  const std::string text =
      "{\"note\":\"" + std::string(100, '[') + "\\\"" + std::string(100, '{') + "\"}";
  CHECK(ErrorOf([&] { (void)ParseJsonObject(text); }).empty());
}

TEST_CASE(
    "an unknown work-body field is refused naming it (urgnet never drops the surcharge silently)") {
  const json body = {{"kind", "support"}, {"minutes", 10}, {"urgnet", true}};
  const std::string e = ErrorOf([&] { (void)ParseWorkBody(body, "anna"); });
  CHECK(e.find("\"urgnet\"") != std::string::npos);
  CHECK(e.find("urgent") != std::string::npos);  // the list of fields names the right one
  const json good = {{"kind", "support"}, {"minutes", 10}, {"urgent", true}};
  CHECK(ErrorOf([&] { (void)ParseWorkBody(good, "anna"); }).empty());
}

TEST_CASE("RequireKnownFields accepts exactly the listed fields") {
  CHECK(ErrorOf([] {
          RequireKnownFields(json{{"amount", "1"}, {"ref", "x"}}, {"amount", "ref", "at", "key"});
        }).empty());
  CHECK(ErrorOf([] {
          RequireKnownFields(json{{"amount", "1"}, {"refernce", "x"}},
                             {"amount", "ref", "at", "key"});
        }).find("refernce") != std::string::npos);
}
