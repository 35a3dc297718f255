// import: time-tracker CSV exports into work entries (tools/hourbank/import/cmd_import.cc).
//
// Each data row becomes one hour-work entry, decided by projections::DecideLog and appended
// with the idempotency key `import:<client>:<first 16 hex of BLAKE2b-256(file)>:<line>`, so a
// second import of the same file writes nothing new. The client's state is loaded once and
// advanced with the events each row appends (what App::DecideAndAppend would reload per row),
// so an import is linear in the file, not quadratic; a concurrent writer makes the row reload
// and decide again, as DecideAndAppend does.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "tools/hourbank/commands.h"
#include "tools/hourbank/import/csv.h"
#include "tools/hourbank/progress.h"

namespace hourbank::cli {

using namespace projections;
using nlohmann::json;

namespace {

constexpr size_t kRefusalsShownMax = 50;  // in the text summary; --json lists every one
constexpr int kConflictRetriesMax = 3;    // reload-and-decide rounds per row (as DecideAndAppend)

std::string ReadImportFile(const std::string& path, uint64_t bytes_max) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    Fail(Code::kNotFound, fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    Fail(Code::kInvalid, fmt::format("'{}' is not a file; give a CSV file", path));
  if (uint64_t(st.st_size) > bytes_max)
    Fail(Code::kLimit,
         fmt::format("'{}' is {} MiB; at most {} MiB can be imported at once, split it", path,
                     uint64_t(st.st_size) >> 20, bytes_max >> 20));
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(Code::kIo, fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::string text(size_t(st.st_size), '\0');
  in.read(text.data(), std::streamsize(text.size()));
  if (!in && !in.eof()) Fail(Code::kIo, fmt::format("cannot read '{}'", path));
  text.resize(size_t(in.gcount()));
  return text;
}

struct Refusal {
  uint64_t line = 0;
  std::string reason;
};

// Errors a user's data can cause: the row is refused and the import goes on. Anything else
// (I/O, corruption, a busy ledger) stops the import.
bool RowLevel(Code code) {
  return code == Code::kInvalid || code == Code::kNotFound || code == Code::kRefused ||
         code == Code::kLimit || code == Code::kConflict;
}

struct ImportArgs {
  std::string client, file, format, kind = "support";
  bool dry_run = false;
};

// One good row: written (true), or skipped as imported before (false). A row-level refusal is a
// CommandError (see RowLevel).
bool ImportOne(App& app, const ImportArgs& ia, ClientState& state, const ImportRow& row,
               const std::string& file_id, const std::string& default_staff) {
  LogWork w;
  w.kind = row.kind.empty() ? ia.kind : row.kind;
  w.task = row.task;
  w.staff = row.staff.empty() ? default_staff : row.staff;
  w.note = row.note;
  w.minutes = row.minutes;
  w.at_us = row.at_us;
  const std::string key = fmt::format("import:{}:{}:{}", ia.client, file_id, row.line);
  // What "the same body" is for the key: the row as mapped, not who runs the import.
  const std::string request =
      fmt::format("import\n{}\n{}\n{}\n{}\n{}\n{}\n{}", row.at_us, row.minutes, w.kind, row.task,
                  row.staff, row.note, row.line);
  if (auto rec = Must(app.log().LookupKey(key))) {
    if (rec->request_digest != ledger::Digest(ia.client + '\0' + request))
      Fail(Code::kConflict, fmt::format("was imported before with other options (kind '{}' "
                                        "now); nothing written for it",
                                        w.kind));
    return false;
  }
  for (int attempt = 0;; ++attempt) {
    Decision d = Must(DecideLog(state, w, app.now_us()));
    if (ia.dry_run || d.events.empty()) break;
    const uint32_t version = state.version();
    try {
      app.Append(ia.client, d, version, key, request);
    } catch (const CommandError& e) {
      if (e.error.code != Code::kConflict || e.error.current_version == 0 ||
          attempt + 1 >= kConflictRetriesMax)
        throw;
      state = app.LoadClient(ia.client);  // another writer moved the client on: decide again
      continue;
    }
    // Fold what was just written (and anything a concurrent writer added) into the state.
    Must(app.log().ReadStream(ia.client, version + 1, 0, [&](const ledger::EventView& v) {
      state.Apply(v.seq, v.event);
      return true;
    }));
    break;
  }
  return true;
}

void PrintImportSummary(App& app, const ImportArgs& ia, TimesheetFormat format, uint64_t imported,
                        uint64_t skipped, const std::vector<Refusal>& refused) {
  if (app.json) {
    json list = json::array();
    for (const Refusal& r : refused) list.push_back({{"line", r.line}, {"reason", r.reason}});
    app.PrintJson({{"client", ia.client},
                   {"file", ia.file},
                   {"format", TimesheetFormatName(format)},
                   {"dry_run", ia.dry_run},
                   {"imported", imported},
                   {"skipped", skipped},
                   {"refused", list}});
    return;
  }
  app.Say(fmt::format("{}{} {}, skipped {} (already imported), refused {}",
                      ia.client.empty() ? "" : ia.client + ": ",
                      ia.dry_run ? "would import" : "imported", imported, skipped, refused.size()));
  for (size_t k = 0; k < refused.size() && k < kRefusalsShownMax; ++k)
    app.Say(fmt::format("  line {}: {}", refused[k].line, refused[k].reason));
  if (refused.size() > kRefusalsShownMax)
    app.Say(
        fmt::format("  … and {} more (--json lists them all)", refused.size() - kRefusalsShownMax));
}

void RunImport(App& app, const ImportArgs& ia) {
  const TimesheetFormat format = Must(ParseTimesheetFormat(ia.format));
  const CsvLimits limits;
  const std::string text = ReadImportFile(ia.file, limits.file_bytes_max);

  ClientState state = app.LoadClient(ia.client);
  if (!state.registered())
    Fail(Code::kNotFound,
         fmt::format("unknown client '{}'; add it first with `hourbank client add`", ia.client));
  auto parsed = ParseTimesheet(text, format, state.zone(), limits);
  if (!parsed.ok())
    Fail(parsed.error().code, fmt::format("{}: {}", ia.file, parsed.error().message));
  const std::vector<ImportRow>& rows = parsed.value();

  const std::string file_id = ledger::HexOf(ledger::Digest(text)).substr(0, 16);
  const char* user = std::getenv("USER");
  const std::string default_staff = user ? user : app.actor;

  uint64_t imported = 0, skipped = 0;
  std::vector<Refusal> refused;
  Progress progress(ia.dry_run ? "checking" : "importing", rows.size(), app.json);
  for (const ImportRow& row : rows) {
    progress.Step();
    if (!row.error.empty()) {
      refused.push_back({row.line, row.error});
      continue;
    }
    try {
      ++(ImportOne(app, ia, state, row, file_id, default_staff) ? imported : skipped);
    } catch (const CommandError& e) {
      if (!RowLevel(e.error.code)) throw;
      refused.push_back({row.line, e.error.message});
    }
  }
  progress.Done();
  PrintImportSummary(app, ia, format, imported, skipped, refused);
  if (!refused.empty())
    Fail(Code::kRefused,
         fmt::format("{} row{} of '{}' refused (listed above); the other rows were {}",
                     refused.size(), refused.size() == 1 ? "" : "s", ia.file,
                     ia.dry_run ? "checked" : "imported"));
}

}  // namespace

void RegisterImportCommand(CLI::App& cli, App& app) {
  auto ia = std::make_shared<ImportArgs>();
  auto* cmd = cli.add_subcommand(
      "import",
      "Import a time tracker's CSV export as hour work (one entry per row; see docs/import.md)\n"
      "  e.g. hourbank import acme toggl-march.csv --format toggl --kind support\n"
      "Rows are read in the client's time zone. Re-importing the same file writes nothing new.\n"
      "Bad rows are refused with their line number and the exit code is 1, but the good rows\n"
      "ARE imported. An edited file is a new file (its rows would be written again): put the\n"
      "fixed rows in a file of their own, or re-import the unchanged file after fixing the\n"
      "ledger (e.g. the contract term) to add just the rows refused before.");
  cmd->add_option("CLIENT", ia->client)->required();
  cmd->add_option("FILE", ia->file, "the CSV file (UTF-8, at most 64 MiB and 1 000 000 rows)")
      ->required();
  cmd->add_option("--format", ia->format, "generic | toggl | harvest | kimai")->required();
  cmd->add_option(
      "--kind", ia->kind,
      "work kind for every row (generic: rows with a kind column keep theirs; default: support)");
  cmd->add_flag("--dry-run", ia->dry_run, "check every row and print the summary; write nothing");
  cmd->callback([&app, ia] { RunImport(app, *ia); });
}

}  // namespace hourbank::cli
