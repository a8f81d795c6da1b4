#!/usr/bin/env bash
# test/forecast/reference.sh: regenerates the stored reference values of the forecasting tests
# (test/forecast/*.csv) with R's forecast package, in the Debian 13 chroot of test/chroot.sh
# (as root; R and r-cran-forecast are installed there, never on this machine).
#
#   sudo test/forecast/reference.sh            CXKPI_CHROOT_CACHE as for test/chroot.sh
#
# The tests (test/tap/90_forecast.sql) only read the CSV files: R is not needed to run them.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CXKPI_CHROOT_CACHE:-/var/cache/cxkpi/chroots}
root=$cache/trixie

bash "$here/test/chroot.sh" 17 bash -c '
  set -e
  if ! dpkg-query -W -f="\${Status}" r-cran-forecast 2>/dev/null | grep -q "install ok installed"; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends r-base-core r-cran-forecast >/dev/null
  fi
  Rscript -e "cat(\"R\", R.version.string, \"forecast\", as.character(packageVersion(\"forecast\")), \"\n\")"
  Rscript test/forecast/reference.R test/forecast'
for f in series fits forecasts candidates; do
  cp "$root/src/test/forecast/$f.csv" "$here/test/forecast/$f.csv"
done
echo "test/forecast/{series,fits,forecasts,candidates}.csv updated"
