// import: time-tracker CSV exports into work entries (tools/hourbank/cmd_import.cc).
#include "tools/hourbank/commands.h"

namespace hourbank::cli {
void RegisterImportCommand(CLI::App& cli, App& app) { (void)cli; (void)app; }
}  // namespace hourbank::cli
