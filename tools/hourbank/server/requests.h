// Pure request parsing for `hourbank serve` (tools/hourbank/server/serve.cc): the URL path and
// query, the JSON body and its fields, and the POST /v1/clients/{id}/work body. No I/O, no ledger,
// no globals, so the HTTP request path can be fuzzed (tests/fuzz/fuzz_http_body.cc).
//
// Failures are thrown like every command's: Fail() -> CommandError with Code::kInvalid and a
// message naming the field; the server turns that into a 400 JSON error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "projections/decide.h"

namespace hourbank::cli {

// %XX decoding (a malformed escape is kept as is) and '+' as a space.
std::string PercentDecode(std::string_view s);
// "/v1/clients/acme/work" -> {"v1", "clients", "acme", "work"}, each segment percent-decoded;
// empty segments are dropped.
std::vector<std::string> SplitPath(const std::string& path);
// "a=1&b=x%20y&c" -> {a: "1", b: "x y", c: ""}; a later key replaces an earlier one.
std::map<std::string, std::string> ParseQuery(std::string_view query);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool ValidUtf8(std::string_view s) noexcept;
// `s` made safe to quote in an error sentence: valid printable UTF-8 is kept, every other byte
// (invalid UTF-8, control characters) becomes \xNN; longer than `max_bytes`: cut, with "…".
std::string Escaped(std::string_view s, size_t max_bytes = 200) noexcept;
// Throws CommandError kInvalid when a path segment or a query key or value is not UTF-8
// (the offending text is quoted escaped).
void RequireUtf8(const std::vector<std::string>& segments,
                 const std::map<std::string, std::string>& query);

// JSON bodies nest at most this deep ([ and { together); deeper is refused before parsing.
constexpr int kJsonDepthMax = 32;

// The body must be a JSON object (UTF-8) nested at most kJsonDepthMax deep: "the body is not
// valid JSON" / "… must be a JSON object" / "… nests deeper than 32 levels" otherwise.
nlohmann::json ParseJsonObject(std::string_view body);

// Refuses (400) a body with a field not in `allowed`, naming it: `"urgnet"` is not a field of
// this body; the fields are: … (a misspelt flag must never be dropped silently).
void RequireKnownFields(const nlohmann::json& body, std::initializer_list<const char*> allowed);

// Body fields: absent or null -> the default (or "the body needs …" when required); a wrong
// type is an error naming the field. Str also takes an integer (as its decimal text).
std::string Str(const nlohmann::json& body, const char* field, bool required = false);
int64_t Int(const nlohmann::json& body, const char* field, int64_t fallback = 0);
std::optional<bool> Bool(const nlohmann::json& body, const char* field);

// POST /v1/clients/{id}/work: the LogWork command (at_us unset: `at` is read in the client's
// zone by the caller), plus the "at" and "key" fields. `actor` is the staff when the body has
// none.
struct WorkBody {
  projections::LogWork work;
  std::string at, key;
};
WorkBody ParseWorkBody(const nlohmann::json& body, const std::string& actor);

}  // namespace hourbank::cli
