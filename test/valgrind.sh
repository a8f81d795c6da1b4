#!/usr/bin/env bash
# test/valgrind.sh [TEST...]: the pg_regress suite (sql/*.sql, or the tests named) against a
# PostgreSQL server run under valgrind's memcheck, as PostgreSQL's own valgrind runs do (the
# postmaster under valgrind --trace-children=yes, every backend followed, suppressions in
# test/valgrind.supp); then once more with every query forced through parallel workers (the
# aggregates' serial and combine functions), unless VALGRIND_PARALLEL=0.
#
# Fails when any valgrind report has a frame in cxkpi (the library, in any of the report's
# stacks: where the error happened, or where the uninitialised value came from), or when
# pg_regress fails; reports in PostgreSQL or the C library alone are listed, not failed
# (docs/operations.md#valgrind explains why the Debian build needs that).
#
# Needs valgrind, PostgreSQL and cxkpi installed (`make install`); `make valgrind-check` runs
# it.  Runs the server as postgres when started as root.  Takes about 16 minutes on two cores.
set -uo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)
command -v valgrind >/dev/null || { echo "test/valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cxkpi-valgrind.XXXXXX")
chmod 755 "$work"
as_server() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$work"
  as_server() { runuser -u postgres -- "$@"; }
fi
port=${VALGRIND_PORT:-54329}
log() { echo "[valgrind $(date +%T)] $*" >&2; }

as_server "$bindir/initdb" -D "$work/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
  > "$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; exit 2; }

log "starting PostgreSQL $("$PG_CONFIG" --version | sed 's/^[^0-9]*//') under valgrind (work folder $work)"
as_server valgrind --quiet --trace-children=yes --track-origins=yes --read-var-info=yes \
  --num-callers=40 --error-limit=no --leak-check=no --suppressions="$PWD/test/valgrind.supp" \
  --xml=yes --xml-file="$work/vg.%p.xml" --log-file="$work/vg.%p.log" \
  "$bindir/postgres" -D "$work/data" -p "$port" -k "$work" -c listen_addresses= \
  -c fsync=off -c max_worker_processes=4 -c max_parallel_workers=2 -c autovacuum=off \
  -c statement_timeout=0 > "$work/server.log" 2>&1 &
server=$!
stop_server() {
  as_server "$bindir/pg_ctl" -D "$work/data" -m fast -t 600 -w stop > /dev/null 2>&1 || kill "$server" 2>/dev/null
  wait "$server" 2>/dev/null
}
trap 'stop_server' INT TERM

export PGHOST=$work PGPORT=$port PGUSER=postgres
for i in $(seq 1 300); do
  "$bindir/pg_isready" -q && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 2; }
  sleep 1
done
"$bindir/pg_isready" -q || { log "the server did not start"; cat "$work/server.log"; stop_server; exit 2; }

status=0
tests=("$@")
regress_args=()
[ ${#tests[@]} -gt 0 ] && regress_args=(REGRESS="setup ${tests[*]/setup/}")
t0=$SECONDS
log "pg_regress: ${tests[*]:-every test}"
if ! make -s installcheck PG_CONFIG="$PG_CONFIG" "${regress_args[@]}"; then
  status=1; cat regression.diffs 2>/dev/null
fi
if [ "${VALGRIND_PARALLEL:-1}" != 0 ]; then
  log "pg_regress again, every query through parallel workers"
  if ! make -s installcheck-parallel PG_CONFIG="$PG_CONFIG" "${regress_args[@]}"; then
    status=1; cat results_parallel/regression.diffs 2>/dev/null
  fi
fi
log "stopping the server after $((SECONDS - t0)) s of tests"
stop_server

# Every <error> of every process's XML report: its kind, what, and the frames of its stacks.
perl -e '
  my ($ours, $theirs) = (0, 0);
  for my $file (@ARGV) {
    local $/; open(my $fh, "<", $file) or next; my $xml = <$fh>;
    while ($xml =~ m{<error>(.*?)</error>}sg) {
      my $e = $1;
      my ($kind) = $e =~ m{<kind>(.*?)</kind>}s;
      next if $kind =~ /^Leak_/;    # the postmaster and backends exit without freeing: no leak check
      my @what = $e =~ m{<(?:what|text)>(.*?)</(?:what|text)>}sg;
      my @frames;
      while ($e =~ m{<frame>(.*?)</frame>}sg) {
        my $f = $1;
        my ($obj) = $f =~ m{<obj>(.*?)</obj>}s; my ($fn) = $f =~ m{<fn>(.*?)</fn>}s;
        my ($file) = $f =~ m{<file>(.*?)</file>}s; my ($line) = $f =~ m{<line>(.*?)</line>}s;
        push @frames, [$obj // "", $fn // "???", $file ? "$file:$line" : ""];
      }
      my $mine = grep { $_->[0] =~ m{/cxkpi\.so$} } @frames;
      if ($mine) { $ours++ } else { $theirs++ }
      next unless $mine || $ENV{VALGRIND_VERBOSE};
      print(($mine ? "cxkpi" : "other"), ": $kind: ", join(" / ", @what), "\n");
      print "    $_->[1] $_->[2] ($_->[0])\n" for @frames;
    }
  }
  print "valgrind: $ours report(s) with a frame in cxkpi, $theirs elsewhere",
        ($theirs && !$ENV{VALGRIND_VERBOSE} ? " (VALGRIND_VERBOSE=1 lists them)" : ""), "\n";
  exit($ours ? 1 : 0);
' "$work"/vg.*.xml || status=1
if [ $status -eq 0 ]; then
  log "passed in $((SECONDS - t0)) s"
  rm -rf "$work"
else
  log "FAILED (logs kept in $work)"
fi
exit $status
