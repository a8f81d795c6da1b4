#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (as root, or with sudo):
#   test/run.sh test            install what is missing, build, install and run every test suite
#                               on PostgreSQL 15 (here), 17 (Debian 13 chroot) and 18 (Debian sid
#                               chroot), then the cross-version dump checks; exits non-zero on
#                               any failure
#   test/run.sh test --pg 17    the same on one version only (repeatable: --pg 15 --pg 18)
#   test/run.sh demo            the same set-up, then the demo in a throwaway cluster (DEMO_KEEP=1:
#                               in a cluster that stays; DEMO_SCALE: data scale, default 1)
#   test/run.sh bench           the same set-up, then the benchmarks (minutes; not a test)
#   test/run.sh valgrind        the same set-up, then the pg_regress suite against a server run
#                               under valgrind (make valgrind-check; nightly, about 16 minutes); on
#                               this machine's PostgreSQL, or --pg N in its chroot
# The chroots are made by test/chroot.sh with debootstrap, outside the repository, and reused by
# later runs (docs/operations.md#testing-on-every-version).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-test}; [ $# -gt 0 ] && shift
case "$target" in test|demo|bench|valgrind) ;; *) echo "usage: $0 test|demo|bench|valgrind [--pg 15|17|18]..." >&2; exit 2;; esac
versions=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pg) versions+=("${2:?--pg needs a version}"); shift 2 ;;
    --pg=*) versions+=("${1#--pg=}"); shift ;;
    *) echo "usage: $0 test|demo|bench|valgrind [--pg 15|17|18]..." >&2; exit 2 ;;
  esac
done

SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo

# The PostgreSQL major version of this machine's Debian release: the one that runs here, without
# a chroot.  Debian 12 "bookworm": 15, Debian 13 "trixie": 17, sid: 18.
. /etc/os-release
case "${VERSION_CODENAME:-}" in
  bookworm) here=15 ;; trixie) here=17 ;; *) here=18 ;;
esac
supported=(15 17 18)
if [ ${#versions[@]} -eq 0 ]; then
  if [ "$target" = test ]; then versions=("${supported[@]}"); else versions=("$here"); fi
fi
for v in "${versions[@]}"; do
  case " ${supported[*]} " in *" $v "*) ;; *) echo "PostgreSQL $v is not supported (${supported[*]})" >&2; exit 2;; esac
done
if [ "$target" != test ] && [ "$target" != valgrind ] && [ "${versions[*]}" != "$here" ]; then
  echo "$target runs on this machine's PostgreSQL ($here) only" >&2; exit 2
fi

# Installs this machine's missing packages: the ones its suite needs, plus debootstrap when
# chroots are to be made.  Done before any chroot is started in the background: two apt-get runs
# at once fail on dpkg's lock (and apt waits for a lock held by anything else).
install_here() {
  local packages=(make gcc postgresql-$here postgresql-common postgresql-server-dev-$here
                  postgresql-$here-pgtap libtap-parser-sourcehandler-pgtap-perl postgresql-$here-cron
                  libgsl-dev libroaring-dev default-jdk-headless libpostgresql-jdbc-java
                  chromium fonts-dejavu-core   # test/shell/dashboard_page.sh: the page in a browser
                  "$@")
  [ "$target" = valgrind ] && packages+=(valgrind)
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq || return 1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null || return 1
  fi
}

# Build, install and run $target on this machine's PostgreSQL.  Each step stops the run when it
# fails (the caller tests the result, which turns off set -e inside).
run_here() {
  install_here || return 1
  make -s -j2 PG_CONFIG=/usr/lib/postgresql/$here/bin/pg_config || return 1
  $SUDO make -s install PG_CONFIG=/usr/lib/postgresql/$here/bin/pg_config || return 1
  make -s "$([ "$target" = valgrind ] && echo valgrind-check || echo "$target")" PG_CONFIG=/usr/lib/postgresql/$here/bin/pg_config
}

# Inside a chroot (or with one version that is this machine's): just run here.
if [ "${versions[*]}" = "$here" ]; then
  run_here
  exit $?
fi

# Several versions, or another one: all of them side by side.  The chroots are made in the
# background and each then waits for PostgreSQL 15's hand-over dump (test/shell/cross_version.sh:
# 17 and 18 restore a dump made on 15), which this machine makes first, in a throwaway cluster,
# right after its build; then the three suites run at once (2 cores: each suite is mostly one
# busy backend, and much of a suite's time is spent waiting: pg_cron's minute, notifications,
# JDBC and Chromium start-up).  Each in its own cluster port; their output is shown one after
# the other.
[ "$(id -u)" -eq 0 ] || { echo "test/run.sh: the chroots of PostgreSQL ${versions[*]} need root" >&2; exit 2; }
logdir=tmp_check/versions; rm -rf "$logdir"; mkdir -p "$logdir"
xdir=tmp_check/xversion; rm -rf "$xdir"
install_here debootstrap
declare -A run_pid result seconds
start_all=$SECONDS
for v in "${versions[@]}"; do
  [ "$v" = "$here" ] && continue
  (
    t0=$SECONDS
    bash test/chroot.sh "$v" > "$logdir/chroot-$v.log" 2>&1 || exit 3
    # the hand-over dump (or word that there is none), at most 60 minutes
    for _ in $(seq 1800); do [ -e "$logdir/handover.done" ] && break; sleep 2; done
    PGPORT=$((5400 + v)) bash test/chroot.sh "$v" bash test/run.sh "$target" --pg "$v" > "$logdir/pg$v.log" 2>&1 || exit $?
  ) &
  run_pid[$v]=$!
done
for v in "${versions[@]}"; do
  [ "$v" = "$here" ] || continue
  t0=$SECONDS
  echo "=================== PostgreSQL $v ==================="
  if install_here && make -s -j2 PG_CONFIG=/usr/lib/postgresql/$here/bin/pg_config \
     && $SUDO make -s install PG_CONFIG=/usr/lib/postgresql/$here/bin/pg_config; then
    if [ "$here" = 15 ] && [ "$target" = test ]; then
      echo "== the hand-over dump for 17 and 18 (test/shell/cross_version.sh on 15)"
      pg_virtualenv -t -v "$here" bash test/shell/cross_version.sh > "$logdir/handover.log" 2>&1 || true
      if [ ! -f "$xdir/cxkpi.dump" ] || grep -q '^not ok' "$logdir/handover.log"; then
        echo "the hand-over dump failed:"; cat "$logdir/handover.log"; handover_failed=1
      fi
    fi
    touch "$logdir/handover.done"
    # this suite's own cross_version.sh writes elsewhere: the chroots copy $xdir when they start
    if CXKPI_XVERSION_DIR=tmp_check/xversion-$here make -s "$target" PG_CONFIG=/usr/lib/postgresql/$here/bin/pg_config; then
      result[$v]=passed
      [ -z "${handover_failed:-}" ] || result[$v]="FAILED (hand-over dump)"
    else
      result[$v]=FAILED
    fi
  else
    touch "$logdir/handover.done"
    result[$v]=FAILED
  fi
  seconds[$v]=$((SECONDS - t0))
  echo "=================== PostgreSQL $v: ${result[$v]} in ${seconds[$v]} s"
done
touch "$logdir/handover.done"
for v in "${versions[@]}"; do
  [ "$v" = "$here" ] && continue
  rc=0; wait "${run_pid[$v]}" || rc=$?
  seconds[$v]=$((SECONDS - start_all))
  echo "=================== PostgreSQL $v ==================="
  cat "$logdir/chroot-$v.log" "$logdir/pg$v.log" 2>/dev/null
  case $rc in 0) result[$v]=passed ;; 3) result[$v]="FAILED (no chroot)" ;; *) result[$v]=FAILED ;; esac
  echo "=================== PostgreSQL $v: ${result[$v]} in ${seconds[$v]} s (since the start, chroot included)"
done
npass=0; nfail=0
echo
echo "Summary ($((SECONDS - start_all)) s in all):"
for v in "${versions[@]}"; do
  echo "  PostgreSQL $v: ${result[$v]} (${seconds[$v]} s)"
  if [ "${result[$v]}" = passed ]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
done
echo "versions: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
