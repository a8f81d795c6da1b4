# Reference values of test/tap/78_experiments.sql, computed independently of cxkpi with base R
# (stats): Rscript test/data/experiments_reference.R.  R's own functions where they exist
# (prop.test, t.test's formulas, power.prop.test, power.t.test); Newcombe's hybrid score interval
# (method 10 of Newcombe 1998) from R's Wilson intervals (prop.test without continuity correction).
options(digits = 15)
newcombe <- function(xa, na, xb, nb, conf = 0.95) {
  pa <- xa / na; pb <- xb / nb
  wa <- prop.test(xa, na, conf.level = conf, correct = FALSE)$conf.int
  wb <- prop.test(xb, nb, conf.level = conf, correct = FALSE)$conf.int
  d <- pa - pb
  p <- prop.test(c(xa, xb), c(na, nb), correct = FALSE)$p.value   # = pooled z test
  z <- d / sqrt((xa + xb) / (na + nb) * (1 - (xa + xb) / (na + nb)) * (1 / na + 1 / nb))
  c(diff = 100 * d, lower = 100 * (d - sqrt((pa - wa[1])^2 + (wb[2] - pb)^2)),
    upper = 100 * (d + sqrt((wa[2] - pa)^2 + (pb - wb[1])^2)), z = z, p = p)
}
welch <- function(na, ma, va, nb, mb, vb, conf = 0.95) {
  se <- sqrt(va / na + vb / nb)
  df <- (va / na + vb / nb)^2 / ((va / na)^2 / (na - 1) + (vb / nb)^2 / (nb - 1))
  t <- (ma - mb) / se
  q <- qt(1 - (1 - conf) / 2, df)
  c(diff = ma - mb, lower = ma - mb - q * se, upper = ma - mb + q * se, t = t, df = df, p = 2 * pt(-abs(t), df))
}
cat("proportion 30/100 vs 20/100:\n"); print(newcombe(30, 100, 20, 100))
cat("proportion 56/70 vs 48/80 (Newcombe 1998, example (a): 0.0524 to 0.3339):\n"); print(newcombe(56, 70, 48, 80))
cat("proportion 0/10 vs 0/20:\n"); print(newcombe(0, 10, 0, 20))
cat("proportion 9/10 vs 3/10 at 90 %:\n"); print(newcombe(9, 10, 3, 10, 0.90))
cat("welch n=20 mean 10 var 4 vs n=25 mean 9 var 9:\n"); print(welch(20, 10, 4, 25, 9, 9))
# Welch on raw values, against t.test itself
a <- c(120.5, 80, 99.9, 150, 45.25, 110); b <- c(70, 95.5, 60, 130, 88, 52.75, 101)
cat("welch raw AOV example:\n"); tt <- t.test(a, b, var.equal = FALSE)
print(c(diff = mean(a) - mean(b), lower = tt$conf.int[1], upper = tt$conf.int[2], t = unname(tt$statistic),
        df = unname(tt$parameter), p = tt$p.value))
# CSAT (v1,scale=5,n=10,counts={0,1,2,3,4}) vs (v1,scale=5,n=10,counts={1,2,3,2,2})
sa <- rep(1:5, c(0, 1, 2, 3, 4)); sb <- rep(1:5, c(1, 2, 3, 2, 2))
cat("csat share (top two boxes) 7/10 vs 4/10:\n"); print(newcombe(sum(sa >= 4), 10, sum(sb >= 4), 10))
cat("csat mean:\n"); tt <- t.test(sa, sb); print(c(lower = tt$conf.int[1], upper = tt$conf.int[2], t = unname(tt$statistic), df = unname(tt$parameter), p = tt$p.value))
cat("power.prop.test(p1 = .50, p2 = .75, power = .90)$n:", power.prop.test(p1 = .50, p2 = .75, power = .90)$n, "\n")
cat("power.prop.test(p1 = .032, p2 = .037, power = .80)$n:", power.prop.test(p1 = .032, p2 = .037, power = .80)$n, "\n")
cat("power.prop.test(p1 = .20, p2 = .15, sig.level = .01, power = .95)$n:", power.prop.test(p1 = .20, p2 = .15, sig.level = .01, power = .95)$n, "\n")
cat("power.t.test(delta = 1, sd = 1, power = .90)$n:", power.t.test(delta = 1, sd = 1, power = .90)$n, "\n")
cat("power.t.test(delta = 1, sd = 1, power = .80)$n:", power.t.test(delta = 1, sd = 1, power = .80)$n, "\n")
cat("power.t.test(delta = 5, sd = 60, power = .80)$n:", power.t.test(delta = 5, sd = 60, power = .80)$n, "\n")
cat("power.t.test(delta = 2, sd = 1, sig.level = .01, power = .9)$n:", power.t.test(delta = 2, sd = 1, sig.level = .01, power = .9)$n, "\n")
# NPS: adjusted-Wald (Rocks 2016: +0.75 detractor, +1.5 passive, +0.75 promoter, n + 3) interval
# of the difference, the adjusted z test; a = 5 promoters, 2 passives, 3 detractors,
# b = 2 promoters, 3 passives, 5 detractors.
nps_adj <- function(pro, pas, det) { n <- pro + pas + det + 3; p <- (pro + .75) / n; d <- (det + .75) / n
  c(nps = p - d, var = p + d - (p - d)^2, n = n) }
A <- nps_adj(5, 2, 3); B <- nps_adj(2, 3, 5)
se <- sqrt(A[["var"]] / A[["n"]] + B[["var"]] / B[["n"]]); dd <- A[["nps"]] - B[["nps"]]
cat("nps 5/2/3 vs 2/3/5:\n"); print(c(diff = 100 * ((5 - 3) / 10 - (2 - 5) / 10), lower = 100 * (dd - qnorm(.975) * se),
  upper = 100 * (dd + qnorm(.975) * se), z = dd / se, p = 2 * pnorm(-abs(dd / se))))
