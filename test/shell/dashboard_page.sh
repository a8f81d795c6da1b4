#!/usr/bin/env bash
# The dashboard page in a real browser (docs/dashboard.md#the-dashboard-page), as its users meet it:
#  1. a BI login made the documented way (cxkpi.create_bi_login) writes the page with the
#     documented one-liner, psql -X -At -c 'SELECT cxkpi_bi.dashboard_page()' > dashboard.html,
#     from the sample data (the database of test/sample_db.sh: DOCTEST_DB, made if missing);
#  2. the page is self-contained: no address but the SVG namespace, no src, link, url() or import;
#  3. headless Chromium (Debian's chromium; test/run.sh and test/chroot.sh install it) opens the
#     file with name resolution off: the page's script ran to its end without an error (body
#     data-rendered="ok", data-errors="0", no console message), every tile is there with its
#     value, target and status as plain SQL formats them from cxkpi_bi.kpi_scorecard, and every
#     section has its content (small multiples, bars, heat map cells, forecasts, alerts, lists,
#     the recommended interventions);
#  4. a screenshot of the whole page is not blank: Chromium reads it back into a canvas and counts
#     its colours and the inked pixels of each tenth of its height.  The page and the screenshot
#     stay in tmp_check/dashboard_page/ (docs/dashboard.png is a copy of dashboard.png);
#  5. with NPS's red trigger raised to 45 (in a transaction) the NPS tile shows the red flag, with
#     a target of its own for CSAT in the app each CSAT bar shows its target, and the page of an
#     empty data model renders without an error, every tile without a value.
# Emits TAP (plan at the end).
set -uo pipefail
cd "$(dirname "$0")/../.."
db=${DOCTEST_DB:-cxkpi_sample}
empty_db=cxkpi_page_empty
login=cxkpi_page_check
password="page-$RANDOM-$RANDOM"
out=tmp_check/dashboard_page
work=$(mktemp -d /tmp/cxkpi_page.XXXXXX)
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
  rm -rf "$work"
  q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $empty_db" >/dev/null 2>&1
  q -d "$db" -c "SET client_min_messages = warning" -c "DROP OWNED BY $login" >/dev/null 2>&1
  q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $login" >/dev/null 2>&1
}
trap cleanup EXIT
n=0
check() { n=$((n + 1)); if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; [ -n "${3:-}" ] && echo "# $3"; fi; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
mkdir -p "$out"
rm -f "$out"/*
q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $login"   # left by an interrupted run
test/sample_db.sh "$db"

chromium_bin=$(command -v chromium || command -v chromium-browser || true)
# Headless, no sandbox (it needs user namespaces, absent as root in a chroot), a profile of its own,
# and no name resolution: nothing can be fetched from the network.
browse() {
  "$chromium_bin" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --no-default-browser-check \
    --disable-extensions --mute-audio --user-data-dir="$work/profile" --host-resolver-rules="MAP * ~NOTFOUND" \
    --enable-logging=stderr --v=0 --virtual-time-budget=15000 "$@"
}
# The value of attribute $2 of the <body> of DOM file $1
body_attr() { perl -0ne 'if (/<body\b([^>]*)>/) { my $b = $1; print $1 if $b =~ /\b\Q'"$2"'\E="([^"]*)"/ }' "$1"; }

# --- 1. A BI login writes the page --------------------------------------------------------------
q -d "$db" -c "SET client_min_messages = warning" -c "CALL cxkpi.create_bi_login('$login', '$password')"
t0=$(now_ms)
PGPASSWORD=$password psql -h "${PGHOST:-localhost}" -U "$login" -d "$db" -X -At -c 'SELECT cxkpi_bi.dashboard_page()' \
  > "$out/dashboard.html" 2> "$work/psql.err"
ms_page=$(( $(now_ms) - t0 ))
check '[ -s "$out/dashboard.html" ] && [ ! -s "$work/psql.err" ] && head -c 15 "$out/dashboard.html" | grep -q "<!DOCTYPE html>"' \
      "a BI login writes the page: psql -X -At -c 'SELECT cxkpi_bi.dashboard_page()' > dashboard.html ($(wc -c < "$out/dashboard.html") bytes, $ms_page ms)" \
      "$(head -c 300 "$work/psql.err")"

# --- 2. Self-contained ------------------------------------------------------------------------------
refs=$(grep -oE 'https?://[^"'"'"' )]*|<link|[[:space:]]src=|url\(|@import' "$out/dashboard.html" | sort -u | paste -sd' ')
check '[ "$refs" = "http://www.w3.org/2000/svg" ]' "self-contained: no link, src, url() or @import; no address but the SVG namespace" "found: $refs"

# --- 3. Chromium runs the page ----------------------------------------------------------------------
if [ -z "$chromium_bin" ]; then
  check false "Chromium is installed (test/run.sh installs Debian's chromium)"
  echo "1..$n"; exit 1
fi
echo "# $("$chromium_bin" --version 2>/dev/null)"
t0=$(now_ms)
browse --window-size=1600,1000 --dump-dom "file://$PWD/$out/dashboard.html" > "$out/dom.html" 2> "$out/chromium.log"
ms_dom=$(( $(now_ms) - t0 ))
check '[ "$(body_attr "$out/dom.html" data-rendered)" = ok ] && [ "$(body_attr "$out/dom.html" data-errors)" = 0 ]' \
      "Chromium runs the page's script to its end without an error ($ms_dom ms)" \
      "body: $(grep -o '<body[^>]*>' "$out/dom.html"); errors: $(grep -o '<div id="errors"[^<]*' "$out/dom.html" | head -c 400)"
check '! grep -q "CONSOLE" "$out/chromium.log"' "and writes nothing to the console" "$(grep CONSOLE "$out/chromium.log" | head -5)"

# Every tile with its value, target and status, formatted as the page formats them, by plain SQL.
q -d "$db" -F '|' > "$work/tiles.expected" <<'SQL'
WITH f AS (
    SELECT s.kpi, s.value, s.target, s.status_rank, c.unit, c.decimals, c.value_suffix, c.direction
    FROM cxkpi_bi.kpi_scorecard AS s JOIN cxkpi_bi.kpi_catalog AS c USING (kpi)
    WHERE s.breakdown = 'total'
      AND s.kpi IN ('nps', 'csat', 'conversion_rate', 'aov', 'cart_abandonment_rate', 'response_time_hours',
                    'resolution_rate', 'retention_rate', 'loyalty_members')),
fmt AS (
    SELECT f.*, v.which, v.x,
           'FM999,999,999,990' || CASE WHEN f.decimals > 0 THEN '.' || repeat('0', f.decimals) ELSE '' END AS pattern
    FROM f, LATERAL (VALUES ('value', f.value), ('target', f.target)) AS v(which, x))
SELECT kpi, which,
       CASE WHEN x IS NULL THEN '–'
            WHEN unit = 'currency' THEN '$' || to_char(round(x::numeric, decimals), pattern)
            WHEN unit = 'count' AND abs(x) >= 1e6 THEN to_char(round((x / 1e6)::numeric, 2), 'FM999,990.00') || 'M'
            ELSE to_char(round(x::numeric, decimals), pattern) || value_suffix END
       || CASE WHEN which = 'value' THEN '|' || coalesce(status_rank::text, '') ELSE '' END
FROM fmt ORDER BY kpi, which;
SQL
bad_tiles=$(perl -e '
  local $/; open(my $d, "<", $ARGV[0]) or die; my $dom = <$d>;
  open(my $e, "<", $ARGV[1]) or die; my @bad; my $n = 0;
  for (split /\n/, <$e>) {
    my ($kpi, $which, $text, $rank) = split /\|/, $_, 4;
    # the tile: from its opening tag to the next tile
    my ($tile) = $dom =~ /(<div class="card tile[^"]*" data-kpi="\Q$kpi\E".*?)(?=<div class="card tile|$)/s;
    if (!defined $tile) { push @bad, "$kpi: no tile"; next; }
    $n++ if $which eq "value";
    if ($which eq "value") {
      my ($shown) = $tile =~ /<span class="v"[^>]*>([^<]*)</;
      my ($cls) = $tile =~ /^<div class="card tile( s\d)?"/;
      push @bad, "$kpi: shows \"" . ($shown // "nothing") . "\", SQL says \"$text\"" unless defined $shown && $shown eq $text;
      my $want = $rank eq "" ? "" : " s$rank";
      push @bad, "$kpi: status class \"" . ($cls // "") . "\", SQL rank \"$rank\"" unless ($cls // "") eq $want;
    } else {
      my ($shown) = $tile =~ /Target <b>(?:≥ |&lt; |< )?([^<]*)<\/b>/;
      push @bad, "$kpi: target \"" . ($shown // "nothing") . "\", SQL says \"$text\"" unless defined $shown && $shown eq $text;
    }
  }
  print join("; ", @bad), ($n == 9 ? "" : "; $n tiles"), "\n";
' "$out/dom.html" "$work/tiles.expected")
check '[ -z "$bad_tiles" ]' "the nine tiles of seed 000's primary metrics show the scorecard's value, target and status as SQL formats them ($(grep -c '|value|' "$work/tiles.expected") values)" "$bad_tiles"
tile_nps=$(grep -o '<div class="card tile[^"]*" data-kpi="nps".*' "$out/dom.html" | grep -o '<span class="v"[^>]*>[^<]*' | head -1 | sed 's/.*>//')
echo "# NPS tile: $tile_nps; $(grep -c . "$work/tiles.expected") values and targets compared"

# Every section has its content (counts of elements in the rendered DOM)
count_in() { perl -0ne 'my ($s) = /id="\Q'"$1"'\E"(.*?)(?:<\/section>|<h3>|<\/div><\/div><h2>|<footer)/s; my @m = ($s // "") =~ /'"$2"'/g; print scalar(@m)' "$out/dom.html"; }
alerts=$(q -d "$db" -c "SELECT count(*) FROM cxkpi_bi.current_alerts")
[ "$alerts" -gt 12 ] && alerts=12
sections="weekly:$(count_in weekly '<div class="mini"') monthly:$(count_in monthly '<div class="mini"')"
sections+=" bars:$(grep -o '<rect class="bar"' "$out/dom.html" | wc -l)"
sections+=" cohort-cells:$(count_in cohorts '<td title="[^"]*" style="background')"
sections+=" forecasts:$(count_in forecasts 'data-series="') models:$(count_in forecasts '>ETS\([AM],[AN]d?,[AMN]\)<')"
sections+=" alerts:$(count_in alerts '<div class="alert"') watch:$(count_in watch '<tr><td class="num">') winback:$(count_in winback '<tr><td class="num">')"
sections+=" interventions:$(count_in interventions '<tr><td class="num">')/$(count_in interventions '<rect class="share"')"
sections+=" scorecard:$(count_in scorecard '<div class="row" data-kpi=')"
rules=$(q -d "$db" -c "SELECT count(*) FROM cxkpi_bi.intervention_summary")
want="weekly:9 monthly:9 bars:19 cohort-cells:78 forecasts:4 models:4 alerts:$alerts watch:10 winback:10 interventions:$rules/$rules scorecard:$(q -d "$db" -c "SELECT count(*) FROM cxkpi_bi.kpi_catalog")"
check '[ "$sections" = "$want" ]' "every section is drawn: $want" "have: $sections"
check 'grep -q "<path d=\"M" "$out/dom.html" && [ "$(grep -o "<circle" "$out/dom.html" | wc -l)" -gt 300 ] && grep -q "<polygon" "$out/dom.html"' \
      "the charts have lines, points and interval bands (SVG paths, circles, polygons)"
check 'grep -q "<span>Scorecard </span><b>2025</b><span> compared with 2024</span>" "$out/dom.html" && grep -q "time zone UTC" "$out/dom.html"' \
      "the header says the scorecard period (2025 against 2024) and the time zone"

# --- 4. The screenshot --------------------------------------------------------------------------------
height=$(body_attr "$out/dom.html" data-height)
case "$height" in ''|*[!0-9]*) height=3200 ;; esac
t0=$(now_ms)
browse --window-size=1600,"$height" --screenshot="$PWD/$out/dashboard.png" "file://$PWD/$out/dashboard.html" >/dev/null 2>> "$out/chromium.log"
ms_shot=$(( $(now_ms) - t0 ))
size=$(perl -e 'open(my $f, "<:raw", $ARGV[0]) or exit; read($f, my $h, 24); my ($w, $h2) = unpack("NN", substr($h, 16, 8)); print "${w}x$h2" if substr($h, 1, 3) eq "PNG"' "$out/dashboard.png")
check '[ "$size" = "1600x$height" ]' "Chromium takes a screenshot of the whole page ($size, $(($(wc -c < "$out/dashboard.png") / 1024)) kB, $ms_shot ms)"
# Chromium reads the PNG back into a canvas (a data: URL, so that the canvas may be read)
{
  printf '<!DOCTYPE html><html><body data-result="none"><img id="i" src="data:image/png;base64,'
  base64 -w0 "$out/dashboard.png"
  cat <<'HTML'
"><script>
var img = document.getElementById('i');
function measure() {
  var c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  var g = c.getContext('2d'); g.drawImage(img, 0, 0);
  var d = g.getImageData(0, 0, c.width, c.height).data, colours = {}, bands = [], i, x, y;
  for (i = 0; i < 10; i++) bands.push(0);
  for (y = 0; y < c.height; y += 2) for (x = 0; x < c.width; x += 2) {
    i = (y * c.width + x) * 4;
    var r = d[i], gr = d[i + 1], b = d[i + 2];
    colours[(r >> 3) + ',' + (gr >> 3) + ',' + (b >> 3)] = 1;
    // inked: darker than the page's background and its white cards, or clearly coloured
    if (r + gr + b < 600 || Math.max(r, gr, b) - Math.min(r, gr, b) > 40) bands[Math.floor(10 * y / c.height)]++;
  }
  var per = c.width * c.height / 40;
  document.body.setAttribute('data-result', Object.keys(colours).length + ' ' +
    bands.map(function (v) { return (100 * v / per).toFixed(1); }).join(' '));
}
var done = false;
function once() { if (!done) { done = true; measure(); } }
img.onload = once;
if (img.complete && img.naturalWidth) once();
</script></body></html>
HTML
} > "$out/measure.html"
browse --window-size=400,300 --dump-dom "file://$PWD/$out/measure.html" > "$work/measure.dom" 2>> "$out/chromium.log"
rm -f "$out/measure.html"
read -r colours bands <<<"$(body_attr "$work/measure.dom" data-result)"
min_band=$(echo "$bands" | tr ' ' '\n' | sort -g | head -1)
check '[ "${colours:-0}" -ge 200 ] && awk -v m="${min_band:-0}" "BEGIN { exit !(m >= 1.0) }"' \
      "the screenshot is not blank: ${colours:-?} colours (5 bits per channel), inked pixels in every tenth of its height (% of the tenth: ${bands:-?})"
echo "# the page and its screenshot: $out/dashboard.html, $out/dashboard.png (docs/dashboard.png is a copy)"

# --- 5. A flagged tile, and an empty data model ---------------------------------------------------
q -d "$db" > "$out/flagged.html" <<'SQL'
BEGIN;
UPDATE cxkpi.kpi_targets SET red_threshold = 45 WHERE kpi = 'nps' AND dimension = '';
INSERT INTO cxkpi.kpi_targets (kpi, dimension, target) VALUES ('csat', 'app', 4.2);
SELECT cxkpi_bi.dashboard_page();
ROLLBACK;
SQL
browse --window-size=1600,1000 --dump-dom "file://$PWD/$out/flagged.html" > "$work/flagged.dom" 2>/dev/null
flag_pill=$(perl -0ne 'if (/<div class="(card tile[^"]*)" data-kpi="nps".*?<span class="(pill[^"]*)" data-flag="([^"]*)">(.*?)<\/span>/s) {
                          my ($t, $c, $f, $in) = ($1, $2, $3, $4); $in =~ s/<svg.*?<\/svg>/[flag]/s; print "$t | $c | $f | $in" }' "$work/flagged.dom")
check '[ "$flag_pill" = "card tile s1 | pill s1 | red | [flag]Red flag" ]' \
      "with NPS's red trigger at 45, the NPS tile is red and its pill carries the flag" "pill: $flag_pill"
csat_note=$(perl -0ne 'print $1 if /data-kpi="csat" data-breakdown="channel"><h3>[^<]*<\/h3><div class="note">([^<]*)</' "$work/flagged.dom")
csat_targets=$(perl -0ne 'my %n; $n{$1}++ while /<title>target ≥ ([0-9.]+)<\/title>/g; print join(",", map { "$n{$_} x $_" } sort keys %n)' "$work/flagged.dom")
check '[[ "$csat_note" == *"targets by channel (dashed)"* ]] && [ "$csat_targets" = "1 x 4.20,7 x 4.50" ]' \
      "with a target of its own for CSAT in the app, the CSAT bars each show their target (app 4.20, the other channels 4.50)" "note: $csat_note; targets: $csat_targets"

q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $empty_db" -c "CREATE DATABASE $empty_db"
q -d "$empty_db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION cxkpi" -c "CALL cxkpi.refresh_dashboard(false)" \
  -c "SELECT cxkpi_bi.dashboard_page()" > "$out/empty.html"
browse --window-size=1600,1000 --dump-dom "file://$PWD/$out/empty.html" > "$work/empty.dom" 2> "$work/empty.log"
empty_values=$(grep -o '<div class="card tile[^"]*" data-kpi="[a-z_]*"' "$work/empty.dom" | wc -l)/$(grep -o '<span class="v" data-value="">–</span>' "$work/empty.dom" | wc -l)
check '[ "$(body_attr "$work/empty.dom" data-rendered)" = ok ] && ! grep -q CONSOLE "$work/empty.log" && [ "$empty_values" = 9/9 ]' \
      "the page of an empty data model renders without an error, nine tiles without a value" \
      "body: $(grep -o '<body[^>]*>' "$work/empty.dom"); tiles/empty values: $empty_values; $(grep CONSOLE "$work/empty.log" | head -3)"

echo "1..$n"
