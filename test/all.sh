#!/usr/bin/env bash
# Every test suite, against the cluster described by the PG* variables
# (make test runs it inside pg_virtualenv).  Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

echo "== pg_regress"
if ! make -s installcheck; then status=1; cat regression.diffs 2>/dev/null; fi

echo "== pg_regress again, every query through parallel workers (debug_parallel_query / force_parallel_mode = regress)"
if ! make -s installcheck-parallel; then status=1; cat results_parallel/regression.diffs 2>/dev/null; fi

echo "== pgTAP suites and shell checks"
test/prove.sh || status=1

if [ $status -ne 0 ]; then echo "FAILED"; else echo "All suites passed."; fi
exit $status
