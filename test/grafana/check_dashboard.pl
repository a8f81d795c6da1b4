#!/usr/bin/perl
# Checks the Grafana dashboard contrib/grafana/cxkpi.json without Grafana (test/shell/grafana_dashboard.sh
# runs it; docs/dashboard.md#grafana-dashboard): the JSON and its structure, then every query of
# its panels and variables expanded as Grafana expands it, run with psql as a BI login, against the
# types each panel needs.  Environment: PGHOST, PGPASSWORD, CXKPI_LOGIN, CXKPI_DB, PG_PARSE (what
# PostgreSQL's jsonb made of the file), WORK (a scratch folder).  Emits TAP.
use strict;
use warnings;
use JSON::PP;

my $n = 0;
sub check { my ($ok, $what, @diag) = @_; $n++; print(($ok ? "ok" : "not ok") . " $n - $what\n"); print "# $_\n" for grep { defined && length } @diag; }

my $file = "contrib/grafana/cxkpi.json";
open(my $fh, "<:raw", $file) or die "$file: $!";
my $text = do { local $/; <$fh> };
my $d = eval { JSON::PP->new->utf8->relaxed(0)->decode($text) };
check($d && ref $d eq "HASH", "$file parses as JSON (JSON::PP, strict)", $@);
exit 1 unless $d;
check($ENV{PG_PARSE} =~ /^object (\d+)$/ && $1 == @{$d->{panels}}, "and as jsonb in PostgreSQL ($ENV{PG_PARSE} panels)");

# --- the dashboard as Grafana provisions it
my @panels = @{$d->{panels}};
my %vars = map { $_->{name} => $_ } @{$d->{templating}{list}};
my (%ids, @bad);
for my $p (@panels) {
  push @bad, "panel $p->{id}: id twice" if $ids{$p->{id}}++;
  my $g = $p->{gridPos};
  push @bad, "panel $p->{id}: gridPos outside 24 columns" unless $g && $g->{x} >= 0 && $g->{w} >= 1 && $g->{x} + $g->{w} <= 24 && $g->{h} >= 1;
  next if $p->{type} eq "row";
  push @bad, "panel $p->{id}: no data source variable" unless ($p->{datasource}{uid} // "") eq "\${datasource}";
  for my $t (@{$p->{targets} || []}) {
    push @bad, "panel $p->{id}: a query without the data source variable" unless ($t->{datasource}{uid} // "") eq "\${datasource}";
    push @bad, "panel $p->{id}: a query that is not raw SQL" unless $t->{rawQuery} && $t->{rawSql};
    push @bad, "panel $p->{id}: format $t->{format}" unless ($t->{format} // "") =~ /^(time_series|table)$/;
  }
}
check(!@bad && $d->{uid} && $d->{title} && $d->{schemaVersion} >= 36,
      "a dashboard Grafana provisions: uid \"$d->{uid}\", schemaVersion $d->{schemaVersion}, " . scalar(grep { $_->{type} ne "row" } @panels) .
      " panels with unique ids on the 24-column grid, every query raw SQL on the data source variable", @bad);
check(($vars{datasource}{type} // "") eq "datasource" && ($vars{datasource}{query} // "") eq "grafana-postgresql-datasource"
      && ($vars{grain}{type} // "") eq "custom" && ($vars{breakdown}{type} // "") eq "query" && ($vars{kpi}{type} // "") eq "query",
      "variables: a PostgreSQL data source, grain (" . ($vars{grain}{query} // "?") . "), breakdown and kpi");
my @stats = grep { $_->{type} eq "stat" && $_->{targets}[0]{rawSql} =~ /status_rank AS "status"/ } @panels;
my @unmapped;
for my $p (@stats) {
  my ($ov) = grep { $_->{matcher}{options} eq "status" } @{$p->{fieldConfig}{overrides}};
  my ($m) = $ov ? map { $_->{value} } grep { $_->{id} eq "mappings" } @{$ov->{properties}} : ();
  my $o = $m ? $m->[0]{options} : {};
  my $got = join ",", map { ($o->{$_}{text} // "?") . ":" . ($o->{$_}{color} // "?") } 1 .. 4;
  push @unmapped, "$p->{title}: $got" unless $got eq "Red flag:red,Yellow flag:yellow,Off target:orange,On target:green";
}
check(@stats == 9 && !@unmapped, scalar(@stats) . " stat panels map the status rank: 1 red flag, 2 yellow flag, 3 off target, 4 on target", @unmapped);

# --- every query, expanded as Grafana expands it
my ($from, $to) = ("2024-01-01T00:00:00Z", "2026-06-30T23:59:59Z");
# Template variables first (Grafana's frontend: $var, ${var}, [[var]]; a single-valued variable
# goes in as its value with quotes doubled, SqlDatasource.interpolateVariable), then the macros of
# the backend (pkg/tsdb/grafana-postgresql-datasource/macros.go: \$name(args)).
sub variable { my ($name, $whole, $val) = @_; return $whole unless exists $val->{$name}; (my $x = $val->{$name}) =~ s/'/''/g; return $x; }
sub macro {
  my ($name, $args) = @_;
  my @args = map { s/^\s+|\s+$//gr } split /,/, $args;
  return "$args[0] BETWEEN '$from' AND '$to'" if $name eq "__timeFilter";
  return "'$from'" if $name eq "__timeFrom";
  return "'$to'" if $name eq "__timeTo";
  die "macro $name is not expected here\n";
}
sub expand {
  my ($sql, $val) = @_;
  $sql =~ s{\$(\w+)|\[\[(\w+)\]\]|\$\{(\w+)\}}{variable($1 // $2 // $3, $&, $val)}ge;
  $sql =~ s{\$(\w+)\(([^\)]*)\)}{macro($1, $2)}ge;
  return $sql;
}
my %default = map { $_ => $vars{$_}{current}{value} } grep { exists $vars{$_}{current}{value} } keys %vars;
my @cases;   # [label, sql, kind, panel]
for my $v (grep { $_->{type} eq "query" } @{$d->{templating}{list}}) {
  push @cases, ["variable \$$v->{name}", expand($v->{query}, \%default), "variable", $v];
}
for my $p (grep { $_->{type} ne "row" } @panels) {
  for my $t (@{$p->{targets}}) {
    my $raw = $t->{rawSql};
    my @grains = $raw =~ /\$grain\b/ ? split(/,/, $vars{grain}{query}) : ($default{grain});
    for my $g (@grains) {
      my %val = (%default, grain => $g);
      push @cases, ["panel $p->{id} \"$p->{title}\"" . ($raw =~ /\$grain\b/ ? " at grain $g" : ""), expand($raw, \%val), $p->{type}, $p, $t, $g eq $default{grain}];
    }
  }
}
# the breakdown panel with every breakdown (rows where the KPI has that breakdown)
my $psql = "psql -X -At -h \Q$ENV{PGHOST}\E -U \Q$ENV{CXKPI_LOGIN}\E -d \Q$ENV{CXKPI_DB}\E";
my @bd = grep { length } split /\n/, `$psql -c "SELECT DISTINCT breakdown FROM cxkpi_bi.kpi_scorecard WHERE breakdown <> 'total' ORDER BY 1" 2>/dev/null`;
my ($bp) = grep { ($_->{targets}[0]{rawSql} // "") =~ /\$breakdown/ } @panels;
for my $b (@bd) {
  next if $b eq $default{breakdown};
  my %val = (%default, breakdown => $b, kpi => ($b eq "device" ? "conversion_rate" : $b eq "segment" ? "aov" : $default{kpi}));
  push @cases, ["panel $bp->{id} by $b ($val{kpi})", expand($bp->{targets}[0]{rawSql}, \%val), "timeseries-any", $bp, $bp->{targets}[0], 0];
}
my $script = "";
for my $i (0 .. $#cases) {
  (my $sql = $cases[$i][1]) =~ s/\s+$//;
  $script .= "\\echo \@\@case $i\n$sql \\gdesc\n\\echo \@\@rows $i\nSELECT count(*) FROM (\n$sql\n) AS q;\n";
}
open(my $sf, ">", "$ENV{WORK}/queries.sql") or die; print $sf $script; close $sf;
my $t0 = time;
my $out = `$psql -v ON_ERROR_STOP=0 -f \Q$ENV{WORK}\E/queries.sql 2>&1`;
my $secs = time - $t0;
my (%cols, %rows, %err, $cur);
for (split /\n/, $out) {
  if (/^\@\@case (\d+)$/) { $cur = $1; $cols{$cur} = []; next }
  if (/^\@\@rows (\d+)$/) { $cur = "r$1"; next }
  next unless defined $cur;
  my $case = $cur =~ s/^r//r;
  if (/ERROR:\s+(.*)/) { $err{$case} //= $1; next }
  if ($cur =~ /^r/) { $rows{$case} = $_ if /^\d+$/; next }
  push @{$cols{$cur}}, [split /\|/, $_, 2] if /\|/;
}
my $numeric = qr/^(smallint|integer|bigint|numeric|real|double precision)$/;
my (@failed, %seen);
my $checked = 0;
for my $i (0 .. $#cases) {
  my ($label, $sql, $kind, $p, $t, $must_rows) = @{$cases[$i]};
  $checked++;
  my @c = @{$cols{$i} || []};
  my %type = map { $_->[0] => $_->[1] } @c;
  my @why;
  push @why, "error: $err{$i}" if $err{$i};
  my $rows = $rows{$i} // -1;
  if (!$err{$i}) {
    if ($kind eq "variable") {
      push @why, "no row" unless $rows > 0;
      push @why, "not text: " . join(",", map { "$_->[0] $_->[1]" } @c) if grep { $_->[1] ne "text" } @c;
    } elsif ($kind =~ /^timeseries/) {
      push @why, "no \"time\" timestamptz column" unless ($type{time} // "") eq "timestamp with time zone";
      my @other = grep { $_->[0] ne "time" } @c;
      push @why, "a column that is neither numeric nor the text metric: " . join(",", map { "$_->[0] $_->[1]" } grep { $_->[1] !~ $numeric && !($_->[0] eq "metric" && $_->[1] eq "text") } @other)
        if grep { $_->[1] !~ $numeric && !($_->[0] eq "metric" && $_->[1] eq "text") } @other;
      push @why, "no numeric value column" unless grep { $_->[1] =~ $numeric } @other;
      push @why, "format $t->{format}" unless $t->{format} eq "time_series";
      push @why, "no row" if $kind eq "timeseries" && $rows < 1;
    } elsif ($kind eq "stat") {
      my $re = $p->{options}{reduceOptions}{fields} // "";
      $re =~ s{^/|/$}{}g;
      my @f = grep { $_->[0] =~ /$re/ } @c;
      push @why, "no field matches $re" unless @f;
      push @why, "not numeric: " . join(",", map { "$_->[0] $_->[1]" } grep { $_->[1] !~ $numeric } @f) if grep { $_->[1] !~ $numeric } @f;
      push @why, "$rows rows, not 1" unless $rows == 1;
    } elsif ($kind eq "bargauge") {
      push @why, "dimension is not text" unless ($type{dimension} // "") eq "text";
      push @why, "value is not numeric" unless ($type{value} // "") =~ $numeric;
      push @why, "no row" unless $rows > 0;
    } elsif ($kind eq "table") {
      for my $o (@{$p->{fieldConfig}{overrides} || []}) {
        next unless $o->{matcher}{id} eq "byName";
        push @why, "no column \"$o->{matcher}{options}\" for its override" unless exists $type{$o->{matcher}{options}};
      }
      push @why, "no row" unless $rows > 0;
    }
  }
  push @failed, "$label: " . join("; ", @why) if @why;
  $seen{$kind}++;
}
check(!@failed, "every query, expanded as Grafana does, runs as the BI login $ENV{CXKPI_LOGIN} and returns rows of the types its panel needs ("
      . $checked . " queries: " . join(", ", map { "$seen{$_} $_" } sort keys %seen) . "; ${secs} s)", @failed);
my @ts = grep { $_->[2] eq "timeseries" } @cases;
my @tf = grep { $_->[1] =~ /"time" BETWEEN '\Q$from\E' AND '\Q$to\E'/ } @ts;
check(@ts && @ts == @tf, "every time series filters its \"time\" column with \$__timeFilter (" . scalar(@tf) . " of " . scalar(@ts) . ")");
print "1..$n\n";
