#!/usr/bin/env bash
# Installs the Debian packages hourbank needs that are missing. Idempotent, non-interactive,
# and fast (one dpkg query) when everything is there.
#   tools/setup.sh          build + test dependencies: every tool a test needs is here (hledger
#                           for the journal comparison, chromium for the statement screenshot,
#                           jq, python3, clang for the fuzzers), so nothing skips in CI
#   tools/setup.sh --peers  also the benchmark peers (rocksdb-tools, postgresql, ledger)
set -euo pipefail

packages=(cmake g++ make pkg-config librocksdb-dev capnproto libcapnp-dev libfmt-dev catch2
          libcli11-dev libsodium-dev libhowardhinnant-date-dev libtomlplusplus-dev nlohmann-json3-dev tzdata
          clang libclang-rt-14-dev python3 hledger jq chromium ccache openssl libssl-dev
          nats-server libnats-dev)
# openssl: the tests make their certificates with it; libssl-dev: Cap'n Proto's CMake package finds
# OpenSSL for kj-tls. hourbank itself calls no OpenSSL function (its TLS client and server are kj-tls).
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(rocksdb-tools postgresql ledger)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "hourbank setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
