// Test helper: opens the ledger in argv[1], prints "ready" and holds it until stdin closes.
// Used to check that a second PROCESS is refused (RocksDB's LOCK file, not an in-process map).
#include <cstdio>
#include <iostream>
#include <string>

#include "ledger/log.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: ledger_lock_holder DIR\n";
    return 2;
  }
  hourbank::ledger::Options options;
  auto log = hourbank::ledger::Log::Open(argv[1], options);
  if (!log.ok()) {
    std::cout << "error " << log.error().message << std::endl;
    return 1;
  }
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {}
  return 0;
}
