#!/usr/bin/env bash
# test/chroot.sh PGVERSION [COMMAND...]
#
# A Debian chroot with PostgreSQL PGVERSION and everything cxkpi's build and tests need, made
# with debootstrap from Debian's mirror and kept outside the repository, in a cache folder that
# later runs on the same machine reuse (CXKPI_CHROOT_CACHE, default /var/cache/cxkpi/chroots).
#   17: Debian 13 "trixie"      18: Debian sid
# With a COMMAND, runs it inside the chroot, in a copy of this checkout (/src), as root, with
# /proc, /dev and /dev/shm mounted for the command's time.  Without one, only makes the chroot.
# PostgreSQL 15 is the host's (Debian 12): test/run.sh runs it directly, without a chroot.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pgv=${1:?usage: $0 PGVERSION [COMMAND...]}; shift
case "$pgv" in
  17) suite=trixie ;;
  18) suite=sid ;;
  *) echo "test/chroot.sh: no chroot for PostgreSQL $pgv (15 runs on the host; 17: trixie, 18: sid)" >&2; exit 2 ;;
esac
cache=${CXKPI_CHROOT_CACHE:-/var/cache/cxkpi/chroots}
mirror=${CXKPI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$cache/$suite
# Bumped whenever the package list below changes, so that a cached chroot is brought up to date.
stamp_want="cxkpi-chroot-v4 pg$pgv"

packages=(make gcc libc6-dev perl postgresql-common postgresql-$pgv postgresql-server-dev-$pgv
          postgresql-$pgv-pgtap libtap-parser-sourcehandler-pgtap-perl postgresql-$pgv-cron
          libgsl-dev libroaring-dev locales-all
          default-jdk-headless libpostgresql-jdbc-java    # test/shell/bi_jdbc.sh: a BI tool's JDBC session
          valgrind                                        # make valgrind-check (test/valgrind.sh)
          chromium fonts-dejavu-core)                     # test/shell/dashboard_page.sh: the page in a browser

log() { echo "[chroot $suite/pg$pgv $(date +%T)] $*" >&2; }

mounted=()
cleanup() {
  local i
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One run at a time per chroot (a second one waits).
mkdir -p "$cache"
exec 9>"$cache/$suite.lock"
flock 9

# Mounts left behind by a run that was killed before its clean-up (innermost first).
stale() { awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r; }
for m in $(stale); do umount -l "$m" 2>/dev/null || true; done

mount_all() {
  local m
  for m in proc dev dev/pts dev/shm sys; do mkdir -p "$root/$m"; done
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  mount --bind /dev "$root/dev" && mounted+=("$root/dev")
  mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null && mounted+=("$root/dev/pts") || true
  mount -t tmpfs -o size=1g,mode=1777 shm "$root/dev/shm" && mounted+=("$root/dev/shm")
  mount -t sysfs sys "$root/sys" 2>/dev/null && mounted+=("$root/sys") || true
}

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
              HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

if [ "$(cat "$root/.cxkpi-stamp" 2>/dev/null)" != "$stamp_want" ]; then
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  if [ ! -x "$root/usr/bin/apt-get" ]; then
    log "debootstrap $suite (a few minutes)"
    rm -rf "$root.partial"; mkdir -p "$cache"
    debootstrap --variant=minbase "$suite" "$root.partial" "$mirror" > "$cache/$suite.debootstrap.log" 2>&1 \
      || { tail -20 "$cache/$suite.debootstrap.log" >&2; exit 1; }
    mv "$root.partial" "$root"
  fi
  log "installing PostgreSQL $pgv and the build and test dependencies"
  # sid's Release file may be past its Valid-Until on a mirror snapshot.
  echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99cxkpi"
  echo "deb $mirror $suite main" > "$root/etc/apt/sources.list"
  # No services are started inside the chroot, and no default cluster is created.
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
  mkdir -p "$root/etc/postgresql-common/createcluster.d"
  echo 'create_main_cluster = false' > "$root/etc/postgresql-common/createcluster.d/cxkpi.conf"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  mount_all
  in_root apt-get update -qq > "$cache/$suite.apt.log" 2>&1 || { tail -20 "$cache/$suite.apt.log" >&2; exit 1; }
  in_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >> "$cache/$suite.apt.log" 2>&1 \
    || { tail -20 "$cache/$suite.apt.log" >&2; exit 1; }
  in_root apt-get clean
  echo "$stamp_want" > "$root/.cxkpi-stamp"
  cleanup; mounted=()
  log "ready"
fi

[ $# -gt 0 ] || exit 0

# A fresh copy of the checkout (tracked and untracked files, no build products) at /src.
rm -rf "$root/src"; mkdir -p "$root/src"
(cd "$here" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$root/src" 2>/dev/null) \
  || cp -a "$here/." "$root/src/"
# The dump made by this machine's PostgreSQL for the cross-version checks (test/shell/cross_version.sh).
if [ -d "$here/tmp_check/xversion" ]; then
  mkdir -p "$root/src/tmp_check"; cp -r "$here/tmp_check/xversion" "$root/src/tmp_check/"
fi
mount_all
log "running: $*"
in_root CI="${CI:-}" CXKPI_PG_VERSION="$pgv" ${PGPORT:+PGPORT="$PGPORT"} /bin/bash -c 'cd /src && "$@"' bash "$@"
