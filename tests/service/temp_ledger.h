// A Session on a fresh temporary ledger (no sync), removed afterwards; "now" is fixed at
// 2026-03-10T10:00Z. Shared by the service test files.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "service/session.h"

namespace hourbank::service {

class TempLedger {
 public:
  TempLedger() {
    std::string tmpl = "/tmp/hourbank-service-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    ledger::Options o;
    o.create_if_missing = true;
    o.durability = ledger::Durability::kNoSync;
    auto s = Session::Open(dir_ + "/ledger", o, /*now=*/int64_t(1773136800000000));
    REQUIRE(s.ok());
    session_ = std::move(s).value();
  }
  ~TempLedger() {
    session_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Session& session() { return *session_; }

 private:
  std::string dir_;
  std::unique_ptr<Session> session_;
};

}  // namespace hourbank::service
