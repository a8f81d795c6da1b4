#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (as root, or with sudo):
#   test/run.sh test    install what is missing, build, install, run every test suite
#   test/run.sh demo    the same set-up, then the demo in a throwaway cluster (DEMO_KEEP=1: in a
#                       cluster that stays; DEMO_SCALE: data scale, default 1)
#   test/run.sh bench   the same set-up, then the benchmarks (minutes; not a test)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-test}
case "$target" in test|demo|bench) ;; *) echo "usage: $0 test|demo|bench" >&2; exit 2;; esac

# Debian packages the build, the tests and the demo need.
packages=(make gcc postgresql-15 postgresql-common postgresql-server-dev-15
          postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl postgresql-15-cron
          libgsl-dev libroaring-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
make -s -j2
$SUDO make -s install
exec make -s "$target"
