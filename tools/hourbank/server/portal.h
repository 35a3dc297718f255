// GET /portal and GET /portal/statement/YYYY-MM for a client token (reports/portal.h,
// docs/portal.md): the pages, and how the token arrives. The transport (serve.cc) reads the
// request; these functions decide and render.
#pragma once

#include <string>

#include "service/auth.h"
#include "service/session.h"

namespace hourbank::cli {

// The cookie that carries a portal token once `?token=` was exchanged (HttpOnly, Path=/portal).
inline constexpr const char* kPortalCookie = "hb_portal";

// The value of the cookie `name` in a `Cookie:` header ("a=1; hb_portal=hbt_…"); "" if absent.
std::string CookieValue(const std::string& header, const std::string& name);

// The `Set-Cookie` value that stores `secret` for the portal's paths (HttpOnly, SameSite=Strict;
// Secure when `tls`).
std::string PortalSetCookie(const std::string& secret, bool tls);

// The portal page of the caller's client (kPortal: a client token only; anyone else 403).
Result<std::string> PortalPage(service::Session& s, const service::Caller& c);

// The caller's statement of `month` ("YYYY-MM") as HTML (kPortal, then the statement's own
// kReadReport check for the caller's client).
Result<std::string> PortalStatement(service::Session& s, const service::Caller& c,
                                    const std::string& month);

}  // namespace hourbank::cli
