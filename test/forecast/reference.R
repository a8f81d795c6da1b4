# test/forecast/reference.R: the reference values of cxkpi's ETS models, computed with R's
# forecast package (forecast::ets and forecast.ets with their defaults).
#
#   Rscript test/forecast/reference.R [OUTDIR]        (default: test/forecast)
#
# Writes, into OUTDIR:
#   series.csv     the series: name, i (1..n), time (ISO date), value, period (R's frequency)
#   fits.csv       one row per case: the series, the model and damped arguments given to ets(),
#                  the model chosen, its AICc, AIC, BIC, log-likelihood, sigma, parameters, n
#   forecasts.csv  one row per case and step: the forecast mean and 80 % / 95 % bounds,
#                  h = 2 x period for a seasonal series (forecast.ets's default), 10 otherwise
#   candidates.csv one row per case of the automatic search and candidate model: its AICc
#                  (forecast's etsmodel with ets()'s arguments), to compare the whole search
# R stays out of the test suite: test/forecast/reference.sh installs R and r-cran-forecast in a
# Debian chroot and runs this script; the tests read the stored CSV files.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "test/forecast"
fver <- as.character(packageVersion("forecast"))
rver <- paste(R.version$major, R.version$minor, sep = ".")

# ---------------------------------------------------------------- the series

# Dates of a ts: the first day of the month (monthly), of the quarter's first month (quarterly)
# or of the year (annual, and frequency-1 series without a calendar: consecutive years from
# 2001); daily series (frequency 7) get consecutive days from 2023-01-02 (a Monday).
ts_dates <- function(y) {
  f <- frequency(y)
  n <- length(y)
  if (f == 7) {
    return(as.Date("2023-01-02") + 0:(n - 1))
  }
  s <- tsp(y)[1]
  if (f == 1) {
    year0 <- if (s > 1000) round(s) else 2001
    return(as.Date(sprintf("%04d-01-01", year0 + 0:(n - 1))))
  }
  year <- floor(s + 1e-8)
  cycle <- round((s - year) * f) # 0-based position in the year
  months <- (cycle + 0:(n - 1)) * (12 / f)
  as.Date(sprintf("%04d-%02d-01", year + months %/% 12, months %% 12 + 1))
}

series <- list(
  AirPassengers = AirPassengers, USAccDeaths = USAccDeaths, UKgas = UKgas, nottem = nottem,
  co2 = co2, wineind = wineind, ldeaths = ldeaths, mdeaths = mdeaths, fdeaths = fdeaths,
  JohnsonJohnson = JohnsonJohnson, austres = austres, woolyrnq = woolyrnq, gas = gas,
  UKDriverDeaths = UKDriverDeaths, Nile = Nile, lynx = lynx, LakeHuron = LakeHuron,
  airmiles = airmiles, WWWusage = WWWusage, BJsales = BJsales, sunspot.year = sunspot.year,
  # short seasonal series: the initial states come from a Fourier regression (fewer than
  # three seasons), and a series with negative values (additive errors only)
  USAccDeaths30 = window(USAccDeaths, end = c(1975, 6)),
  UKgas11 = window(UKgas, end = c(1962, 3)),
  LakeHuron_dev = ts(LakeHuron - 579, start = 1875)
)

# Daily retail-shaped series, 730 days (two years) from a fixed seed: trend, weekly pattern
# (Saturday peak, Sunday and Monday lows) and noise.
set.seed(20240601)
n <- 730
t <- 1:n
dow <- ((t - 1) %% 7) + 1 # 1 = Monday, as the dates start on a Monday
week_add <- c(-12, -8, -4, 0, 10, 22, -8)
week_mult <- c(0.85, 0.9, 0.95, 1.0, 1.1, 1.3, 0.9)
series$daily_additive <- ts(200 + 0.08 * t + week_add[dow] + rnorm(n, 0, 8), frequency = 7)
series$daily_multiplicative <- ts((500 * (1 + 0.0006 * t)) * week_mult[dow] * exp(rnorm(n, 0, 0.06)),
                                 frequency = 7)
series$daily_flat <- ts(120 + week_add[dow] * 0.5 + rnorm(n, 0, 6), frequency = 7)
level <- 300 + cumsum(rnorm(n, 0, 2))
series$daily_random_walk <- ts(level * week_mult[dow] + rnorm(n, 0, 10), frequency = 7)
series$daily_tickets <- ts(rpois(n, 6 * week_mult[dow] * (1 + 0.0004 * t)), frequency = 7)
series$daily_revenue <- ts(round(8000 * (1 + 0.0005 * t) * week_mult[dow] * exp(rnorm(n, 0, 0.1)), 2),
                           frequency = 7)

rows <- lapply(names(series), function(nm) {
  y <- series[[nm]]
  data.frame(series = nm, i = seq_along(y), time = format(ts_dates(y)),
             value = format(as.numeric(y), digits = 17), period = frequency(y))
})
write.csv(do.call(rbind, rows), file.path(outdir, "series.csv"), row.names = FALSE, quote = FALSE)

# ---------------------------------------------------------------- the cases

cases <- data.frame(series = names(series), model = "ZZZ", damped = NA, stringsAsFactors = FALSE)
# every model form forecast::ets can choose, forced, on a monthly and a daily series
forms <- list(c("ANN", NA), c("AAN", FALSE), c("AAN", TRUE), c("ANA", NA), c("AAA", FALSE),
              c("AAA", TRUE), c("MNN", NA), c("MAN", FALSE), c("MAN", TRUE), c("MNA", NA),
              c("MAA", FALSE), c("MAA", TRUE), c("MNM", NA), c("MAM", FALSE), c("MAM", TRUE))
for (nm in c("USAccDeaths", "daily_multiplicative")) {
  for (f in forms) {
    cases <- rbind(cases, data.frame(series = nm, model = f[1], damped = as.logical(f[2])))
  }
}
# partly specified searches
cases <- rbind(cases, data.frame(
  series = c("AirPassengers", "daily_additive", "gas", "UKgas", "Nile", "daily_tickets"),
  model = c("ZZN", "AZZ", "MZZ", "ZZZ", "ZZZ", "ZZA"),
  damped = c(NA, NA, NA, FALSE, TRUE, NA)))
cases$case <- seq_len(nrow(cases))

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "" else format(x, digits = 17)

fits <- list()
fcs <- list()
cands <- list()
for (k in seq_len(nrow(cases))) {
  cs <- cases[k, ]
  y <- series[[cs$series]]
  damped <- if (is.na(cs$damped)) NULL else cs$damped
  fit <- ets(y, model = cs$model, damped = damped)
  m <- frequency(y)
  h <- if (fit$components[3] != "N" || m > 1) 2 * m else 10
  if (m == 1) h <- 10
  fc <- forecast(fit, h = h)
  par <- fit$par
  fits[[k]] <- data.frame(
    case = cs$case, series = cs$series, model = cs$model,
    damped = if (is.na(cs$damped)) "" else tolower(as.character(cs$damped)),
    method = fit$method, aicc = num(fit$aicc), aic = num(fit$aic), bic = num(fit$bic),
    loglik = num(fit$loglik), sigma = num(sqrt(fit$sigma2)),
    alpha = num(par["alpha"]), beta = num(par["beta"]), gamma = num(par["gamma"]),
    phi = num(par["phi"]), n = length(y), h = h, forecast_version = fver, r_version = rver)
  fcs[[k]] <- data.frame(
    case = cs$case, step = 1:h, point = format(as.numeric(fc$mean), digits = 17),
    lo80 = format(as.numeric(fc$lower[, 1]), digits = 17),
    hi80 = format(as.numeric(fc$upper[, 1]), digits = 17),
    lo95 = format(as.numeric(fc$lower[, 2]), digits = 17),
    hi95 = format(as.numeric(fc$upper[, 2]), digits = 17))
  # the whole search of an automatic case: every candidate's AICc, as ets() computes it
  if (cs$model == "ZZZ" && is.na(cs$damped)) {
    seasonal <- m > 1 && m <= 24 && length(y) > m
    positive <- min(y) > 0
    for (e in c("A", "M")) for (tr in c("N", "A")) for (s in c("N", "A", "M")) for (d in c(TRUE, FALSE)) {
      if (tr == "N" && d) next
      if (e == "A" && s == "M") next
      if (!positive && e == "M") next
      if (!seasonal && s != "N") next
      f <- try(forecast:::etsmodel(y, e, tr, s, d, lower = c(rep(1e-4, 3), 0.8),
                                   upper = c(rep(0.9999, 3), 0.98), opt.crit = "lik", nmse = 3,
                                   bounds = "both"), silent = TRUE)
      aicc <- if (inherits(f, "try-error") || is.null(f$aicc)) Inf else f$aicc
      cands[[length(cands) + 1]] <- data.frame(
        case = cs$case, method = paste0("ETS(", e, ",", tr, ifelse(d, "d", ""), ",", s, ")"),
        aicc = num(aicc))
    }
  }
}
write.csv(do.call(rbind, fits), file.path(outdir, "fits.csv"), row.names = FALSE)
write.csv(do.call(rbind, fcs), file.path(outdir, "forecasts.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, cands), file.path(outdir, "candidates.csv"), row.names = FALSE)
cat(sprintf("forecast %s (R %s): %d cases, %d series written to %s\n", fver, rver,
            nrow(cases), length(series), outdir))
