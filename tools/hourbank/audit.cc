// audit, export, import-log, checkpoint, keygen, verify.
#include "tools/hourbank/commands.h"

namespace hourbank::cli {
void RegisterAuditCommands(CLI::App& cli, App& app) { (void)cli; (void)app; }
}  // namespace hourbank::cli
