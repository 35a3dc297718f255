// Request parsing for `hourbank serve`; see requests.h.
#include "tools/hourbank/server/requests.h"

#include <algorithm>

#include <fmt/format.h>

#include "projections/units.h"
#include "tools/hourbank/app.h"

namespace hourbank::cli {

using nlohmann::json;

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out += char(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    parts.push_back(PercentDecode(std::string_view(path).substr(i, j - i)));
    i = j;
  }
  return parts;
}

std::map<std::string, std::string> ParseQuery(std::string_view qs) {
  std::map<std::string, std::string> query;
  while (!qs.empty()) {
    size_t amp = qs.find('&');
    std::string_view kv = qs.substr(0, amp);
    size_t eq = kv.find('=');
    query[PercentDecode(kv.substr(0, eq))] =
        eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    qs.remove_prefix(amp + 1);
  }
  return query;
}

bool ValidUtf8(std::string_view s) noexcept {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF)
      n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      n = 3, cp = c & 0x07;
    else
      return false;
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

std::string Escaped(std::string_view s, size_t max_bytes) noexcept {
  try {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      if (out.size() >= max_bytes) {
        out += "\u2026";
        break;
      }
      const auto c = static_cast<unsigned char>(s[i]);
      size_t n = c < 0x80                 ? 1
                 : c >= 0xC2 && c <= 0xDF ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
      if (n > 1 && i + n <= s.size() && ValidUtf8(s.substr(i, n))) {
        out.append(s.substr(i, n));
        i += n;
      } else if (n == 1 && c >= 0x20 && c != 0x7F) {
        out += char(c);
        ++i;
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
        ++i;
      }
    }
    return out;
  } catch (...) {
    return "(unprintable)";
  }
}

void RequireUtf8(const std::vector<std::string>& segments,
                 const std::map<std::string, std::string>& query) {
  for (const std::string& seg : segments)
    if (!ValidUtf8(seg))
      Fail(Code::kInvalid,
           fmt::format("the path segment '{}' is not valid UTF-8 (percent-encode UTF-8 text)",
                       Escaped(seg)));
  for (const auto& [k, v] : query) {
    if (!ValidUtf8(k))
      Fail(Code::kInvalid,
           fmt::format("the query parameter name '{}' is not valid UTF-8", Escaped(k)));
    if (!ValidUtf8(v))
      Fail(Code::kInvalid,
           fmt::format("the query parameter {} = '{}' is not valid UTF-8", Escaped(k), Escaped(v)));
  }
}

namespace {

// The deepest nesting of [ and { outside strings, counted before parsing so a deep body never
// reaches the recursive parser. Stops counting once over the limit.
int JsonDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kJsonDepthMax) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

json ParseJsonObject(std::string_view text) {
  if (JsonDepth(text) > kJsonDepthMax)
    Fail(Code::kInvalid, fmt::format("the body nests deeper than {} levels", kJsonDepthMax));
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) Fail(Code::kInvalid, "the body is not valid JSON");
  if (!body.is_object()) Fail(Code::kInvalid, "the body must be a JSON object");
  return body;
}

void RequireKnownFields(const json& body, std::initializer_list<const char*> allowed) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool known = false;
    for (const char* a : allowed) known = known || it.key() == a;
    if (known) continue;
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    Fail(Code::kInvalid,
         fmt::format("\"{}\" is not a field of this body (misspelt?); the fields are: {}",
                     Escaped(it.key()), list));
  }
}

std::string Str(const json& body, const char* field, bool required) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) Fail(Code::kInvalid, fmt::format("the body needs \"{}\"", field));
    return {};
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  Fail(Code::kInvalid, fmt::format("\"{}\" must be a string", field));
}

int64_t Int(const json& body, const char* field, int64_t fallback) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v > uint64_t(INT64_MAX)) Fail(Code::kInvalid, fmt::format("\"{}\" is out of range", field));
    return int64_t(v);
  }
  Fail(Code::kInvalid, fmt::format("\"{}\" must be an integer", field));
}

std::optional<bool> Bool(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) Fail(Code::kInvalid, fmt::format("\"{}\" must be true or false", field));
  return it->get<bool>();
}

WorkBody ParseWorkBody(const json& body, const std::string& actor) {
  RequireKnownFields(
      body, {"kind", "duration", "minutes", "count", "task", "note", "staff", "urgent", "off_hours",
             "late", "emergency", "at", "key", "non_billable"});
  WorkBody out;
  projections::LogWork& w = out.work;
  w.kind = Str(body, "kind", true);
  w.task = Str(body, "task");
  w.note = Str(body, "note");
  w.staff = Str(body, "staff");
  if (w.staff.empty()) w.staff = actor;
  w.count = Int(body, "count");
  if (w.count < 0) Fail(Code::kInvalid, "\"count\" must not be negative");
  w.urgent = Bool(body, "urgent").value_or(false);
  w.off_hours = Bool(body, "off_hours");
  w.late = Bool(body, "late").value_or(false);
  w.emergency = Bool(body, "emergency").value_or(false);
  w.non_billable = Bool(body, "non_billable").value_or(false);
  const std::string duration = Str(body, "duration");
  const int64_t minutes = Int(body, "minutes");
  if (!duration.empty() && minutes != 0)
    Fail(Code::kInvalid, "give \"minutes\" or \"duration\", not both");
  if (!duration.empty()) {
    auto m = projections::ParseDurationMinutes(duration);
    if (!m.ok()) Fail(m.error());
    w.minutes = m.value();
  } else {
    w.minutes = minutes;
  }
  if (w.minutes < 0) Fail(Code::kInvalid, "\"minutes\" must not be negative");
  if (w.minutes != 0 && w.count != 0)
    Fail(Code::kInvalid, "give either minutes/duration (hour work) or count (item work), not both");
  if (w.minutes == 0 && w.count == 0)
    Fail(Code::kInvalid,
         "give \"duration\" (e.g. \"1h30m\") or \"minutes\" for hour work, or \"count\" for item "
         "work");
  out.at = Str(body, "at");
  out.key = Str(body, "key");
  return out;
}

}  // namespace hourbank::cli
