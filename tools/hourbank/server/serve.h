// `hourbank serve` and its bearer tokens: the token functions live in service/auth.h; these
// names keep the CLI's files (tokens.cc, serve.cc, client.cc) short.
#pragma once

#include "service/auth.h"

namespace hourbank::cli {

using service::IssueToken;
using service::LoadTokens;
using service::NewTokenSecret;
using service::ParseRole;
using service::RevokeToken;
using service::RoleName;
using service::TokenInfo;
using service::ValidTokenName;

}  // namespace hourbank::cli
