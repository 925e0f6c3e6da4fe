#!/bin/sh
# Installs the Debian 12 packages anfu needs, idempotently: apt is called only
# when something is missing; without root it prints the exact command instead.
# Usage: scripts/deps.sh [build|test|bench|all]   (default: test)
set -eu

BUILD_PKGS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev \
  libmicrohttpd-dev libgnutls28-dev libsqlite3-dev libssl-dev openssl \
  libsodium-dev libgcrypt20-dev liboath-dev libjansson-dev libinih-dev \
  libgd-dev libqrencode-dev libcurl4-openssl-dev libcmocka-dev \
  libunistring-dev libpq-dev"
TEST_PKGS="python3 python3-pytest python3-requests python3-cryptography \
  python3-aiosmtpd python3-yaml curl postgresql-15 python3-psycopg2 \
  chromium chromium-driver python3-selenium fonts-wqy-microhei"
BENCH_PKGS="wrk"

what=${1:-test}
# The OpenAPI linter (tools/openapi, run by tests/api/test_docs.py) needs
# Node.js and npm; Debian's packages are the fallback where there are none.
if [ "$what" != build ]; then
  command -v node >/dev/null 2>&1 || TEST_PKGS="$TEST_PKGS nodejs"
  command -v npm >/dev/null 2>&1 || TEST_PKGS="$TEST_PKGS npm"
fi
case "$what" in
  build) want="$BUILD_PKGS" ;;
  test)  want="$BUILD_PKGS $TEST_PKGS" ;;
  bench) want="$BUILD_PKGS $TEST_PKGS $BENCH_PKGS" ;;
  all)   want="$BUILD_PKGS $TEST_PKGS $BENCH_PKGS" ;;
  *) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $p"
  fi
done

# The pinned linter (npm ci; silent when installed). A failure here is
# reported, not fatal: the docs test runs the installer again and fails
# with its explanation, and every other test still runs.
openapi_lint() {
  [ "$what" = build ] || "$(dirname "$0")/../tools/openapi/install.sh" || true
}

if [ -z "$missing" ]; then
  openapi_lint
  exit 0
fi

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "anfu: missing Debian packages:$missing" >&2
  echo "run as root:  apt-get update && $cmd" >&2
  exit 1
fi

echo "anfu: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Update the index only when the install fails on a stale one.
if ! $cmd >/tmp/anfu-apt.log 2>&1; then
  apt-get update >>/tmp/anfu-apt.log 2>&1
  $cmd >>/tmp/anfu-apt.log 2>&1 || { tail -n 30 /tmp/anfu-apt.log >&2; exit 1; }
fi
openapi_lint
