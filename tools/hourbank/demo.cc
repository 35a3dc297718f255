#include "tools/hourbank/commands.h"

namespace hourbank::cli {
void RegisterDemoCommand(CLI::App& cli, App& app) { (void)cli; (void)app; }
}  // namespace hourbank::cli
