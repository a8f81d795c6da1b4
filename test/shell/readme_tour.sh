#!/usr/bin/env bash
# The README's "A five-minute tour", run as a reader would: every statement of its ```sql block,
# one after the other, in a fresh database, on the sample data the tour generates (scale 1,
# seed 42, about a minute).  A statement followed by "--> " lines (on its last line or the lines
# after it) must print those rows: psql's unaligned output (-At, fields separated by |), each
# cell compared with the shown one (a number shown with d decimals matches within half a unit of
# its last decimal; blanks around | are ignored); a last "--> ..." line means "and more rows".
# A statement without "--> " lines must succeed.  The BI login the tour creates is renamed to a
# name of this test's own, and dropped at the end.  Emits TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cxkpi_readme_tour
login=cxkpi_tour_metabase
work=$(mktemp -d /tmp/cxkpi_tour.XXXXXX)
cleanup() {
  rm -rf "$work"
  psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
       -c "DROP ROLE IF EXISTS $login" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup; mkdir -p "$work"
psql -X -q -d postgres -c "CREATE DATABASE $db" || { echo "Bail out! cannot create database $db"; exit 1; }

# Split the tour into $work/N.sql (the statement), N.expected (the "-->" rows) and N.where.
perl -e '
    my ($out) = @ARGV;
    open(my $f, "<", "README.md") or die "README.md: $!";
    my ($in_tour, $in_sql, $n, $stmt, $start, $last) = (0, 0, 0, "", 0, 0);
    my @expect;
    sub flush_expect { if ($last && @expect) { open(my $e, ">>", "$out/$last.expected"); print $e "$_\n" for @expect; close $e; } @expect = (); }
    while (my $line = <$f>) {
        chomp $line;
        if (!$in_tour) { $in_tour = 1 if $line =~ /^## A five-minute tour/; next; }
        if (!$in_sql) { if ($line =~ /^```sql\s*$/) { $in_sql = 1; next; } last if $line =~ /^## /; next; }
        last if $line =~ /^```\s*$/;
        # split code and comment (a -- outside quotes)
        my ($code, $comment, $q, $dq) = ("", "", 0, 0);
        for (my $i = 0; $i < length $line; $i++) {
            my $c = substr($line, $i, 1);
            $q = !$q if $c eq "\x27" && !$dq;
            $dq = !$dq if $c eq "\x22" && !$q;
            if (!$q && !$dq && substr($line, $i, 2) eq "--") { $comment = substr($line, $i); last; }
            $code .= $c;
        }
        if ($code =~ /\S/) {
            flush_expect() if $stmt eq "";
            $start = $. if $stmt eq "";
            $stmt .= "$line\n";
            if ($code =~ /;\s*$/) {
                $n++;
                open(my $s, ">", "$out/$n.sql"); print $s $stmt; close $s;
                open(my $w, ">", "$out/$n.where"); print $w "README.md:$start"; close $w;
                $stmt = ""; $last = $n;
            }
        } elsif ($stmt ne "" && $line =~ /\S/) {
            $stmt .= "$line\n";      # a comment line inside a statement
            next;
        }
        push @expect, $1 if $comment =~ /^-->\s?(.*)$/ && $stmt eq "";
    }
    flush_expect();
    exit($n > 0 ? 0 : 1);
' "$work" || { echo "Bail out! no tour in README.md"; exit 1; }

count=$(ls "$work"/*.sql | wc -l)
echo "1..$count"
failed=0
for ((i = 1; i <= count; i++)); do
  where=$(cat "$work/$i.where")
  sed -e "s/'metabase'/'$login'/g" "$work/$i.sql" > "$work/$i.run"
  title=$(grep -v '^\s*--' "$work/$i.sql" | head -1 | sed -e 's/--.*//' -e 's/\s*$//' | cut -c1-70)
  t0=$(date +%s%N)
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -d $db -f "$work/$i.run" > "$work/$i.out" 2>&1
  status=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  verdict=ok
  if [ $status -ne 0 ]; then
    verdict="not ok"; msg="psql exited with status $status"
  elif [ -f "$work/$i.expected" ]; then
    msg=$(perl -e '
        my ($exp_file, $out_file) = @ARGV;
        open(my $e, "<", $exp_file); my @exp = map { chomp; $_ } <$e>;
        open(my $o, "<", $out_file); my @out = map { chomp; $_ } <$o>;
        my $more = @exp && $exp[-1] =~ /^\s*\.\.\.\s*$/ ? pop @exp : undef;
        my @why;
        push @why, sprintf("%d rows, the tour shows %d%s", scalar @out, scalar @exp, $more ? " and more" : "")
            if ($more ? @out < @exp : @out != @exp);
        for my $r (0 .. $#exp) {
            last if $r > $#out;
            my @ec = map { s/^\s+|\s+$//gr } split /\|/, $exp[$r], -1;
            my @oc = map { s/^\s+|\s+$//gr } split /\|/, $out[$r], -1;
            my $bad = @ec != @oc;
            for my $c (0 .. $#ec) {
                last if $bad;
                my ($x, $y) = ($ec[$c], $oc[$c] // "");
                my $num = qr/^-?\d+(?:\.(\d+))?$/;
                if ($x =~ $num) {
                    my $d = length($1 // "");
                    $bad = !($y =~ /^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i && abs($y - $x) <= 0.5 * 10 ** -$d + 1e-9);
                } else {
                    $bad = $x ne $y;
                }
            }
            push @why, "row " . ($r + 1) . ": the tour shows \"$exp[$r]\", psql prints \"$out[$r]\"" if $bad;
        }
        print join("; ", @why);
    ' "$work/$i.expected" "$work/$i.out")
    [ -n "$msg" ] && verdict="not ok"
  fi
  echo "$verdict $i - $where: $title (${ms} ms)"
  if [ "$verdict" != ok ]; then
    failed=$((failed + 1))
    echo "# $msg"
    sed 's/^/#   | /' "$work/$i.out" | head -20
  fi
done
[ $failed -eq 0 ] || echo "# $failed of $count tour statements failed"
exit $(( failed > 0 ))
