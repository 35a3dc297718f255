#!/usr/bin/env python3
"""The client portal in a real browser (issue 17.5; docs/portal.md).

Usage: portal_test.py PATH/TO/hourbank [OUT.png]

The demo ledger served on loopback (port 0, HOURBANK_NOW fixed); a client token for logistic
(RUB). Headless Chromium opens /portal?token=…: the server answers 303 with an HttpOnly cookie,
the browser follows it and the DOM it parsed is the portal, in Russian, whose every data-figure
equals the number of GET /v1/clients/logistic/balance for the same token. Isolation: the
client token gets 403 for another client's balance, statement and forecast (and for a client
that does not exist), an admin token gets the portal's 403 page, a revoked token the 401 page,
and the statement links of the page are the client's own. Without Chromium: exit 77 (skipped),
under CI=true a failure.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from e2e_server import Server

HB = sys.argv[1]
OUT = sys.argv[2] if len(sys.argv) > 2 else ""
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
if not BROWSER:
    if os.environ.get("CI") == "true":
        sys.exit("FAILED: chromium is not installed (CI=true; tools/setup.sh installs it)")
    print("skipped: chromium is not installed (apt-get install chromium)")
    sys.exit(77)

TMP = tempfile.mkdtemp(prefix="hourbank-portal-")
ENV = dict(os.environ, HOURBANK_LEDGER=os.path.join(TMP, "ledger"), USER="tester")
ENV.pop("HOURBANK_SERVER", None)
ENV.pop("HOURBANK_TOKEN", None)
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def hb(*args):
    p = subprocess.run([HB, *args], env=ENV, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit(f"hourbank {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


hb("demo")
ENV["HOURBANK_NOW"] = "2026-04-20T12:00:00+03:00"
CLIENT = json.loads(hb("--json", "token", "issue", "lg-portal", "--role", "client", "--client", "logistic"))["token"]
ADMIN = json.loads(hb("--json", "token", "issue", "boss", "--role", "admin"))["token"]
GONE = json.loads(hb("--json", "token", "issue", "gone", "--role", "client", "--client", "logistic"))["token"]
hb("token", "revoke", "gone")
OTHERS = [c["client"] for c in json.loads(hb("--json", "client", "list")) if c["client"] != "logistic"]
check(OTHERS, "the demo has other clients")


def get(srv, path, token=None, cookie=None):
    req = urllib.request.Request(srv.url + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if cookie:
        req.add_header("Cookie", cookie)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium(*args, profile):
    p = subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={os.path.join(TMP, profile)}", *args],
                       capture_output=True, text=True, timeout=120)
    return p.stdout


srv = Server(HB, ENV)
try:
    # The token link: 303 to /portal with an HttpOnly cookie, no token in the Location.
    st, headers, _ = get(srv, "/portal?token=" + CLIENT)
    cookie = headers.get("Set-Cookie", "")
    check(st == 303 and headers.get("Location") == "/portal", f"token link redirects to /portal: {st} {headers}")
    check(cookie.startswith("hb_portal=" + CLIENT + ";") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
          and "Path=/portal" in cookie, f"the cookie is HttpOnly, Strict, /portal: {cookie}")
    st, headers, page = get(srv, "/portal", cookie="hb_portal=" + CLIENT)
    check(st == 200 and headers.get("Cache-Control") == "no-store", f"the cookie opens the portal: {st}")
    st, _, _ = get(srv, "/v1/clients/logistic/balance", cookie="hb_portal=" + CLIENT)
    check(st == 401, f"the API does not read the portal's cookie: {st}")

    # The page in a real browser, through the redirect and the cookie.
    dom = chromium("--dump-dom", srv.url + "/portal?token=" + CLIENT, profile="p1")
    check("<svg" in dom and 'id="hours-chart"' in dom, "Chromium's DOM has the portal's chart")
    check("Личный кабинет" in dom and "Остаток часов" in dom and "Прогноз" in dom, "the RUB client's portal is Russian")
    check(CLIENT not in dom, "the token is not in the page")
    st, _, body = get(srv, "/v1/clients/logistic/balance", token=CLIENT)
    check(st == 200, f"the client token reads its own balance: {st} {body}")
    balance = json.loads(body)
    figures = dict(re.findall(r'data-figure="([^"]+)" data-value="(-?\d+)"', dom))
    check(len(figures) >= 8, f"the DOM carries the balance's figures: {figures}")
    for key, value in figures.items():
        want = balance
        for part in html.unescape(key).split("."):
            want = want.get(part) if isinstance(want, dict) else None
        check(want == int(value), f"portal {key} = {value}, balance API says {want}")
    links = re.findall(r'href="([^"]+)"', dom)
    check(links and all(re.fullmatch(r"/portal/statement/\d{4}-\d{2}", l) for l in links),
          f"the statement links are the portal's own: {links}")
    # a past statement through a link, in the browser (the cookie from the first visit)
    sdom = chromium("--dump-dom", srv.url + "/portal?token=" + CLIENT + "&x=1", profile="p2")
    check("Личный кабинет" in sdom, "a token link with another parameter still lands on the portal")
    st, headers, stmt = get(srv, "/portal/statement/2026-03", cookie="hb_portal=" + CLIENT)
    check(st == 200 and "<svg" in stmt and "март 2026" in stmt, f"the March statement through the portal: {st}")
    check("Прогноз" not in stmt, "a past month's statement has no forecast section")
    st, _, now_stmt = get(srv, "/portal/statement/2026-04", cookie="hb_portal=" + CLIENT)
    check(st == 200 and 'id="forecast"' in now_stmt, "this month's statement has the forecast section")

    # Isolation: every other client's data is 403 for the client token, a made-up one too.
    for other in OTHERS + ["ghost"]:
        for path in (f"/v1/clients/{other}/balance", f"/v1/clients/{other}/statement/2026-03",
                     f"/v1/clients/{other}/forecast", f"/v1/clients/{other}/report/2026-03"):
            st, _, body = get(srv, path, token=CLIENT)
            check(st == 403 and json.loads(body).get("code") == "forbidden", f"{path} as the client: {st} {body[:120]}")
    for path in ("/v1/clients", "/v1/plans", "/metrics", "/v1/clients/logistic/events"):
        st, _, _ = get(srv, path, token=CLIENT)
        check(st == 403, f"{path} as the client is 403: {st}")
    # Other tokens at the portal: admin 403, revoked 401, none 401 — HTML pages.
    for token, want in ((ADMIN, 403), (GONE, 401), (None, 401)):
        st, headers, body = get(srv, "/portal", token=token)
        check(st == want and headers.get("Content-Type", "").startswith("text/html")
              and f'data-status="{want}"' in body, f"/portal with {token and token[:8]} is the {want} page: {st}")
    dom = chromium("--dump-dom", srv.url + "/portal?token=" + ADMIN, profile="p3")
    check('data-status="403"' in dom, "in the browser an admin token link gets the 403 page")
    st, _, _ = get(srv, "/portal/statement/2026-13", cookie="hb_portal=" + CLIENT)
    check(st == 400, f"a bad month is 400: {st}")
    st, _, _ = get(srv, "/portal/other", cookie="hb_portal=" + CLIENT)
    check(st == 404, f"an unknown portal page is 404: {st}")

    # The screenshot (docs/portal.png).
    png = os.path.join(TMP, "portal.png")
    chromium("--window-size=1000,1700", f"--screenshot={png}", srv.url + "/portal?token=" + CLIENT, profile="p4")
    check(os.path.getsize(png) > 10000 if os.path.exists(png) else False, "Chromium wrote a screenshot")
    if OUT and os.path.exists(png):
        shutil.copy(png, OUT)
finally:
    rc = srv.stop()
check(rc == 0, f"server exits 0 on SIGTERM, got {rc}")
shutil.rmtree(TMP, ignore_errors=True)

if FAILURES:
    print(f"{len(FAILURES)} failure(s)")
    sys.exit(1)
print("portal: loads in Chromium, shows the balance API's figures, other clients are 403")
