#!/usr/bin/env bash
# Doctest for the user documentation: every ```sql block in docs/*.md that is followed
# (after optional blank lines) by a ```text block is run through psql, and its output
# (stdout and stderr, trailing white space trimmed per line, trailing blank lines dropped)
# must equal the text block.  An ```sql block without a ```text block is not checked.
#
# Emits TAP (`prove --exec bash test/shell/doctest.sh`); exits non-zero on any failure.
# The examples run where a reader of the docs runs them: on the sample data of the README's tour.
# Connects with the PG* variables to database ${DOCTEST_DB:-cxkpi_sample}, which
# test/sample_db.sh makes if it does not exist (scale 1, seed 42, dashboard refreshed; about a
# minute).  Examples must be self-contained and leave the database as they found it (VALUES,
# generate_series, unnest, or BEGIN ... ROLLBACK); examples that need an empty data model empty
# it inside their transaction.  Progress notices are silenced (client_min_messages = warning):
# their timings differ from run to run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

db="${DOCTEST_DB:-cxkpi_sample}"
test/sample_db.sh "$db" || { echo "Bail out! cannot make the sample database $db"; exit 2; }
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
work="$(mktemp -d "${TMPDIR:-/tmp}/doctest.XXXXXX")" || exit 2
trap 'rm -rf "$work"' EXIT

# Extract the pairs: $work/N.sql, $work/N.expected and $work/N.where ("docs/x.md:LINE").
shopt -s nullglob
files=(docs/*.md)
awk -v out="$work" '
    function flush_pending() { pending = 0 }
    FNR == 1 { state = "prose"; pending = 0 }
    state == "prose" && /^```sql[ \t]*$/ {
        flush_pending(); state = "sql"; start = FNR; sql = ""; next }
    state == "prose" && /^```text[ \t]*$/ && pending {
        state = "text"; text = ""; next }
    state == "prose" && /^```/ { flush_pending(); state = "other"; next }
    state == "prose" && /^[ \t]*$/ { next }
    state == "prose" { flush_pending(); next }
    state == "other" && /^```[ \t]*$/ { state = "prose"; next }
    state == "other" { next }
    state == "sql" && /^```[ \t]*$/ { state = "prose"; pending = 1; next }
    state == "sql" { sql = sql $0 "\n"; next }
    state == "text" && /^```[ \t]*$/ {
        n++
        printf "%s", sql > (out "/" n ".sql"); close(out "/" n ".sql")
        printf "%s", text > (out "/" n ".expected"); close(out "/" n ".expected")
        printf "%s:%d\n", FILENAME, start > (out "/" n ".where"); close(out "/" n ".where")
        state = "prose"; pending = 0; next }
    state == "text" { text = text $0 "\n"; next }
' "${files[@]}" /dev/null || { echo "Bail out! cannot parse docs/*.md"; exit 2; }

# Trailing white space off every line, trailing blank lines off the end.
normalise() {
    sed -e 's/[[:space:]]*$//' | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'
}

count=$(find "$work" -name '*.sql' | wc -l)
if [ "$count" -eq 0 ]; then
    echo "1..0 # SKIP no checked examples in docs/*.md"
    exit 0
fi
echo "1..$count"

failed=0
for ((i = 1; i <= count; i++)); do
    where="$(cat "$work/$i.where")"
    psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -P pager=off -d "$db" \
        <"$work/$i.sql" 2>&1 | normalise >"$work/$i.actual"
    status=${PIPESTATUS[0]}
    normalise <"$work/$i.expected" >"$work/$i.want"
    if [ "$status" -eq 0 ] && cmp -s "$work/$i.want" "$work/$i.actual"; then
        echo "ok $i - $where"
    else
        failed=$((failed + 1))
        echo "not ok $i - $where"
        [ "$status" -ne 0 ] && echo "# psql exited with status $status"
        diff -u --label expected --label actual "$work/$i.want" "$work/$i.actual" | sed 's/^/# /'
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "# $failed of $count documentation examples failed"
    exit 1
fi
exit 0
