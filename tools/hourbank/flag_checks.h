// CLI11 validators for flags whose empty or absurd values must never reach the log. A refused value
// is a usage error (exit 2, one line `hourbank: error: …`) raised while the command line is parsed,
// before any command runs, so nothing is written.
#pragma once

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

namespace hourbank::cli {

// The longest --actor (bytes); an actor is recorded on every event it appends.
inline constexpr size_t kActorBytesMax = 128;

// "" when `actor` is 1..kActorBytesMax bytes of valid UTF-8, not blank, with no control
// characters; otherwise why not.
std::string ActorProblem(const std::string& actor);

// --actor: see ActorProblem.
CLI::Validator ActorCheck();
// A time flag given as "" or blanks (leave the flag out for "now"). `flag` names it.
CLI::Validator TimeGiven(const std::string& flag);
// Free text that must say something: not empty, not only blanks (void --reason, adjust --reason).
CLI::Validator NotBlank(const std::string& flag, const std::string& example);
// A whole number of months in [1, max] (contract start --months: leave it out for the plan's
// minimum term).
CLI::Validator MonthsInRange(const std::string& flag, unsigned max, const std::string& hint);

}  // namespace hourbank::cli
