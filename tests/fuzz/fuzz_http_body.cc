// libFuzzer target: the HTTP request parsing of `hourbank serve` (tools/hourbank/server/requests.h)
// on arbitrary bytes. Input grammar: selector: byte, text: byte* — selector % 3 picks what the text
// is: 0 a URL (path "?" query: SplitPath, ParseQuery), 1 a request body parsed as every POST route
// does (ParseJsonObject, then the work body and the accept/void/pay/token fields), 2 a work body
// wrapped as {"kind": …, "duration": TEXT} so the duration parser sees raw text. Every call must
// return or throw CommandError (the server's 400); nothing else may escape, crash or trip a
// sanitizer, and an accepted work body must be hour work xor item work. Issue 14: the URL's
// segments and query pass RequireUtf8 or are refused, and every escaped echo (Escaped) is valid
// UTF-8 without control characters; bodies nested deeper than kJsonDepthMax are refused before
// parsing; unknown fields are refused by name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "tools/hourbank/app.h"
#include "tools/hourbank/server/requests.h"

using namespace hourbank::cli;
using nlohmann::json;

namespace {

void CheckWork(const json& body) {
  try {
    const WorkBody w = ParseWorkBody(body, "fuzzer");
    if (w.work.kind.empty() && !body.contains("kind")) std::abort();
    if (w.work.minutes < 0 || w.work.count < 0) std::abort();
    if ((w.work.minutes != 0) == (w.work.count != 0)) std::abort();
    if (w.work.staff.empty()) std::abort();
  } catch (const CommandError& e) {
    if (e.error.message.empty()) std::abort();
  }
}

template <typename F>
void Field(F&& f) {
  try {
    f();
  } catch (const CommandError& e) {
    if (e.error.message.empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 3) {
    case 0: {
      const size_t q = text.find('?');
      const std::vector<std::string> parts = SplitPath(std::string(text.substr(0, q)));
      for (const std::string& p : parts)
        if (p.empty()) std::abort();
      std::map<std::string, std::string> query;
      if (q != std::string_view::npos) query = ParseQuery(text.substr(q + 1));
      bool all_utf8 = true;
      for (const std::string& p : parts) all_utf8 = all_utf8 && ValidUtf8(p);
      for (const auto& [k, v] : query) all_utf8 = all_utf8 && ValidUtf8(k) && ValidUtf8(v);
      bool refused = false;
      Field([&] {
        refused = true;
        RequireUtf8(parts, query);
        refused = false;
      });
      if (refused == all_utf8) std::abort();  // refused exactly when some text is not UTF-8
      const std::string echo = Escaped(text, 64);
      if (!ValidUtf8(echo)) std::abort();
      for (char c : echo)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) std::abort();
      // The echo is dumpable JSON without the replace handler.
      (void)json(echo).dump();
      break;
    }
    case 1: {
      json body;
      try {
        body = ParseJsonObject(text);
      } catch (const CommandError& e) {
        if (e.error.message.empty()) std::abort();
        return 0;
      }
      if (!body.is_object()) std::abort();
      {
        // Accepted bodies are never deeper than the limit.
        std::function<int(const json&)> depth = [&](const json& j) -> int {
          int d = 0;
          if (j.is_structured())
            for (const auto& x : j) d = std::max(d, depth(x));
          return j.is_structured() ? d + 1 : 0;
        };
        if (depth(body) > kJsonDepthMax) std::abort();
      }
      Field([&] { RequireKnownFields(body, {"task", "at", "late"}); });
      CheckWork(body);
      // accept / void / pay / tokens read these fields (serve.cc's Route).
      Field([&] {
        (void)Str(body, "task", true);
        (void)Str(body, "at");
        (void)Bool(body, "late");
      });
      Field([&] {
        (void)Int(body, "entry");
        (void)Str(body, "reason", true);
        (void)Str(body, "key");
      });
      Field([&] {
        (void)Str(body, "amount", true);
        (void)Str(body, "ref");
      });
      Field([&] {
        (void)Str(body, "role", true);
        (void)Str(body, "name", true);
      });
      break;
    }
    case 2: {
      // A JSON string holds any bytes only when they are UTF-8; invalid text is dropped by dump's
      // replace handler, so the duration parser still sees the odd ASCII.
      json body = {{"kind", "support"}, {"duration", std::string(text)}};
      if (selector & 0x80) body["minutes"] = int64_t(selector);
      CheckWork(json::parse(body.dump(-1, ' ', false, json::error_handler_t::replace)));
      break;
    }
  }
  return 0;
}
