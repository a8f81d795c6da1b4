# cxkpi: PGXS build.  `make && make install`, then `make installcheck` (pg_regress),
# `make prove` (pgTAP).  `make test`, `make demo` and `make bench` run everything in a
# throwaway cluster (pg_virtualenv); test/run.sh installs what they need on Debian 12.

EXTENSION  = cxkpi
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = cxkpi
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/retention/*.c src/clv/*.c src/forecast/*.c)))

# The install script of the current version is assembled from the SQL definitions, one file
# per KPI family, in dependency order.  Earlier versions' install scripts are frozen
# (cxkpi--1.0.sql, exactly as 1.0 shipped) and the upgrade scripts (cxkpi--A--B.sql) are
# written by hand; test/shell/upgrade.sh proves that 1.0 + upgrade equals a fresh install.
SQL_PARTS  = src/common.sql src/nps.sql src/csat.sql src/ces.sql src/returns.sql src/retention.sql src/clv.sql src/forecast.sql src/quantiles.sql \
             src/dashboard_model.sql src/engagement.sql src/inventory.sql src/dashboard_rollups.sql src/dashboard_views.sql src/dashboard_surveys.sql src/dashboard_clv.sql src/alerts.sql \
             src/bi.sql src/dashboard_hourly.sql src/dashboard_interventions.sql src/dashboard_page.sql src/dashboard_forecast.sql src/experiments.sql src/feedback.sql src/dashboard_engagement.sql src/dashboard_inventory.sql src/sample_data.sql
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA       = $(EXTENSION)--1.0.sql $(wildcard $(EXTENSION)--*--*.sql)

# pg_regress: `setup` first, then every sql/*.sql in name order.
REGRESS      = setup $(filter-out setup,$(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
SHLIB_LINK  = -lgsl -lgslcblas -lroaring -lm

PG_CONFIG ?= pg_config
PGXS      := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

$(OBJS): $(wildcard src/*.h src/retention/*.h src/clv/*.h src/forecast/*.h)

# The ETS fits reproduce forecast::ets's Nelder-Mead path, which needs the same floating-point
# operations as R's build: no fused multiply-add contraction, whatever the compiler's default.
$(patsubst %.c,%.o,$(wildcard src/forecast/*.c)): override CFLAGS += -ffp-contract=off

# The server's major version (15, 17, 18, ...).
PG_MAJOR := $(shell $(PG_CONFIG) --version | sed 's/^[^0-9]*\([0-9]*\).*/\1/')

# Options that force every query through parallel workers and partial aggregation
# (force_parallel_mode was renamed debug_parallel_query in PostgreSQL 16).
FORCE_PARALLEL_GUC := $(if $(filter 15,$(PG_MAJOR)),force_parallel_mode,debug_parallel_query)
PARALLEL_PGOPTIONS = -c $(FORCE_PARALLEL_GUC)=regress -c parallel_setup_cost=0 \
	-c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0 \
	-c max_parallel_workers_per_gather=2

.PHONY: prove installcheck-parallel test valgrind-check demo bench bench-retention bench-retention-shapes bench-clv bench-dashboard bench-views bench-alerts bench-forecast bench-incremental

# pgTAP suites; needs a running server (PG* variables) and the extension installed.
prove:
	test/prove.sh

# The pg_regress suite again with forced parallel plans: the same expected output.
installcheck-parallel:
	mkdir -p results_parallel
	PGOPTIONS="$(PARALLEL_PGOPTIONS)" $(pg_regress_installcheck) $(REGRESS_OPTS) \
	  --outputdir=results_parallel $(REGRESS)

# Everything, in a throwaway cluster (run `make install` first, as root).
test:
	pg_virtualenv -t -v $(PG_MAJOR) test/all.sh

# The pg_regress suite (plain and forced-parallel) against a server run under valgrind; fails on
# any report in cxkpi's code (run `make install` first; nightly, about 16 minutes:
# docs/operations.md#valgrind).  VALGRIND_TESTS="setup clv" runs some tests only.
valgrind-check:
	PG_CONFIG=$(PG_CONFIG) test/valgrind.sh $(VALGRIND_TESTS)

# The demo (README's first command): the sample dataset and the dashboard in a throwaway
# cluster; DEMO_KEEP=1 keeps a Debian cluster "cxkpi_demo" instead (test/demo_keep.sh, root).
demo:
	@if [ -n "$(DEMO_KEEP)" ]; then DEMO_PG=$(PG_MAJOR) test/demo_keep.sh; else DEMO_TEMPORARY=1 pg_virtualenv -t -v $(PG_MAJOR) test/demo.sh; fi

BENCH_CLUSTER = pg_virtualenv -t -v $(PG_MAJOR) -o shared_buffers=1GB -o max_parallel_workers_per_gather=2 \
	  -o work_mem=256MB

# The survey-score benchmark, the retention (docs/retention.md) and CLV (docs/clv.md) benchmarks,
# the dashboard benchmark (docs/performance.md#dashboard), the reader views on the sample data at
# scale 10 (docs/performance.md#reader-views), the alerting benchmark and load test
# (docs/alerts.md), then the forecasting benchmark against R (docs/forecasting.md#speed).
bench:
	$(BENCH_CLUSTER) bash -c 'test/bench/run.sh && test/bench/retention.sh && test/bench/clv.sh && test/bench/dashboard.sh && test/bench/views.sh && test/bench/incremental.sh && test/bench/alerts.sh && test/bench/forecast.sh'

bench-retention:
	$(BENCH_CLUSTER) test/bench/retention.sh

# Retention by id shape: dense, 32-bit and 64-bit ids in one run (docs/retention.md, issue 20).
bench-retention-shapes:
	$(BENCH_CLUSTER) test/bench/retention_shapes.sh

bench-clv:
	$(BENCH_CLUSTER) test/bench/clv.sh

bench-dashboard:
	$(BENCH_CLUSTER) test/bench/dashboard.sh

bench-views:
	$(BENCH_CLUSTER) test/bench/views.sh

# The incremental refresh against the full rebuild at sample scale BENCH_INC_SCALE (default 30):
# docs/performance.md#incremental-refresh.
bench-incremental:
	$(BENCH_CLUSTER) test/bench/incremental.sh

bench-alerts:
	$(BENCH_CLUSTER) test/bench/alerts.sh

bench-forecast:
	$(BENCH_CLUSTER) test/bench/forecast.sh

EXTRA_CLEAN = results_parallel
