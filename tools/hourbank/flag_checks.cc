#include "tools/hourbank/flag_checks.h"

#include <fmt/format.h>

#include "tools/hourbank/escape.h"

namespace hourbank::cli {

namespace {
bool Blank(const std::string& s) { return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos; }
}  // namespace

std::string ActorProblem(const std::string& actor) {
  if (Blank(actor))
    return "the actor is empty; give --actor NAME (who is acting, recorded on every event)";
  if (actor.size() > kActorBytesMax)
    return fmt::format(
        "the actor is {} bytes; at most {} bytes are recorded, give a shorter --actor",
        actor.size(), kActorBytesMax);
  if (TerminalSafe(actor) != actor)
    return fmt::format(
        "the actor '{}' holds control characters or invalid UTF-8; give a plain name with --actor",
        TerminalSafe(actor));
  return {};
}

CLI::Validator ActorCheck() {
  return CLI::Validator([](std::string& v) { return ActorProblem(v); }, "", "actor");
}

CLI::Validator TimeGiven(const std::string& flag) {
  return CLI::Validator(
      [flag](std::string& v) -> std::string {
        if (!Blank(v)) return {};
        return fmt::format(
            "is empty; give a time such as 2026-01-10T10:00, or leave {} out for now", flag);
      },
      "", "time given");
}

CLI::Validator NotBlank(const std::string& flag, const std::string& example) {
  return CLI::Validator(
      [flag, example](std::string& v) -> std::string {
        if (!Blank(v)) return {};
        return fmt::format("is blank; say why, e.g. {} \"{}\"", flag, example);
      },
      "", "not blank");
}

CLI::Validator MonthsInRange(const std::string& flag, unsigned max, const std::string& hint) {
  return CLI::Validator(
      [flag, max, hint](std::string& v) -> std::string {
        unsigned long n = 0;
        size_t used = 0;
        bool ok =
            !v.empty() && v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos;
        if (ok) n = std::stoul(v, &used);
        if (ok && n >= 1 && n <= max) return {};
        return fmt::format("'{}' is not a number of months from 1 to {}; {}", TerminalSafe(v), max,
                           hint);
      },
      "", "months");
}

}  // namespace hourbank::cli
