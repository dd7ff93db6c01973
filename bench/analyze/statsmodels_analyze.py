#!/usr/bin/env python3
"""What `etl analyze` computes, done with statsmodels, for the side-by-side benchmark.

Usage:
    statsmodels_analyze.py generate DIR       writes the benchmark CSV files (fixed seed) and
                                              DIR/files.txt ("set file period_minutes|-")
    statsmodels_analyze.py analyze FILE[:PERIOD_MINUTES] ...
                                              analyses every file in one process; prints one
                                              JSON summary line per file and, last, the
                                              in-process compute time in ns ("compute_ns N")

Per file (one-minute steps), as `etl analyze` does:
  - aggregates: numpy min, max, mean, std (ddof=0), count;
  - adfuller(x, regression="c", autolag="AIC");
  - acf(x, nlags=min(int(10*log10(n)), n-1), alpha=0.05, fft=True) and the significant lags;
  - seasonality: scipy periodogram of the linearly detrended series, the peak period (when
    Fisher's g test finds it significant at 1%), then
    seasonal_decompose (additive, and multiplicative for a positive series) over the integer
    periods within 5% of the peak, keeping the lowest residual mean square;
  - forecast: the period given on the command line, else the one found; with at least two
    full periods ExponentialSmoothing(trend="add", seasonal="add", seasonal_periods=p).fit()
    and, for a positive series, seasonal="mul", else Holt's linear trend
    (ExponentialSmoothing(trend="add")); the lowest in-sample RMSE wins; forecast(10).
"""

import json
import math
import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore", FutureWarning)


def generate(out_dir):
    import os

    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261122)
    n = 4320
    t = np.arange(n, dtype=float)
    start = 1_795_000_000 - (1_795_000_000 % 60)
    cases = []

    def add(set_name, name, values, period):
        cases.append((set_name, f"{name}.csv", values, period))

    for i, (amp, noise, slope) in enumerate([(5, 1, 0), (10, 2, 0.002), (3, 1, -0.001), (8, 4, 0.0)]):
        add("hourly", f"hourly_add_{i}", 50 + slope * t + amp * np.sin(2 * np.pi * t / 60)
            + rng.normal(0, noise, n), 60)
    for i, (amp, noise) in enumerate([(0.2, 0.02), (0.3, 0.05), (0.1, 0.02)]):
        add("hourly", f"hourly_mul_{i}", (100 + 0.01 * t) * (1 + amp * np.sin(2 * np.pi * t / 60))
            * (1 + rng.normal(0, noise, n)), 60)
    for i, (amp, noise) in enumerate([(20, 3), (10, 2)]):
        add("daily", f"daily_add_{i}", 200 + amp * np.sin(2 * np.pi * t / 1440)
            + rng.normal(0, noise, n), 1440)
    add("daily", "daily_mul_0", 300 * (1 + 0.25 * np.sin(2 * np.pi * t / 1440))
        * (1 + rng.normal(0, 0.03, n)), 1440)
    for i, slope in enumerate([0.01, -0.005]):
        add("none", f"trend_noise_{i}", 100 + slope * t + rng.normal(0, 2, n), None)
    for i in range(3):
        add("none", f"white_noise_{i}", 20 + rng.normal(0, 1 + i, n), None)
    for i in range(3):
        add("none", f"random_walk_{i}", 500 + np.cumsum(rng.normal(0, 1, n)), None)
    for i, phi in enumerate([0.5, 0.9]):
        x = np.zeros(n)
        e = rng.normal(0, 1, n)
        for k in range(1, n):
            x[k] = phi * x[k - 1] + e[k]
        add("none", f"ar1_phi{int(phi * 100):02d}", 40 + x, None)

    with open(os.path.join(out_dir, "files.txt"), "w") as index:
        for set_name, file_name, values, period in cases:
            with open(os.path.join(out_dir, file_name), "w") as f:
                f.write("timestamp,value\n")
                for k, v in enumerate(values):
                    f.write(f"{start + 60 * k},{float(v)!r}\n")
            index.write(f"{set_name} {file_name} {period if period else '-'}\n")


def seasonality(x):
    from scipy.signal import detrend, periodogram
    from statsmodels.tsa.seasonal import seasonal_decompose

    n = len(x)
    freqs, power = periodogram(detrend(x, type="linear"))
    keep = (freqs > 0) & (freqs <= 0.5) & (1 / np.where(freqs > 0, freqs, 1) <= n / 2)
    if not keep.any():
        return None
    power = power[keep]
    # Fisher's g test: no period unless the peak stands out of white noise (p < 0.01).
    k = len(power)
    g = power.max() / power.sum()
    if k * (1 - g) ** (k - 1) >= 0.01:
        return None
    peak = 1 / freqs[keep][np.argmax(power)]
    positive = bool((x > 0).all())
    best = None
    lo, hi = max(2, int(math.floor(peak * 0.95))), min(n // 2, int(math.ceil(peak * 1.05)))
    for p in range(lo, hi + 1):
        for model in ("additive", "multiplicative") if positive else ("additive",):
            r = seasonal_decompose(x, model=model, period=p).resid
            r = r[~np.isnan(r)]
            if model == "multiplicative":
                r = r - 1
            err = float(np.mean(r * r))
            if best is None or err < best[1]:
                best = (p, err)
    return best[0] if best else None


def analyze(path, period):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from statsmodels.tsa.stattools import acf, adfuller

    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=1)
    n = len(x)
    summary = {"file": path, "n": n}
    summary["aggregates"] = [float(x.min()), float(x.max()), float(x.mean()), float(x.std()), n]
    adf = adfuller(x, regression="c", autolag="AIC")
    summary["adf"] = [float(adf[0]), float(adf[1]), int(adf[2])]
    nlags = min(int(10 * math.log10(n)), n - 1)
    values, conf = acf(x, nlags=nlags, alpha=0.05, fft=True)
    summary["acf_lags"] = [k for k in range(nlags + 1) if k == 0 or conf[k][0] > 0]
    found = seasonality(x)
    summary["period_found"] = found
    p = period if period else found
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if p and n >= max(2 * p, p + 3):
            fits.append(ExponentialSmoothing(x, trend="add", seasonal="add", seasonal_periods=p).fit())
            if (x > 0).all():
                fits.append(ExponentialSmoothing(x, trend="add", seasonal="mul", seasonal_periods=p).fit())
        else:
            fits.append(ExponentialSmoothing(x, trend="add").fit())
    best = min(fits, key=lambda f: f.sse)
    summary["forecast"] = [float(v) for v in best.forecast(10)]
    summary["rmse"] = math.sqrt(best.sse / n)
    return summary


def main(argv):
    if len(argv) == 2 and argv[0] == "generate":
        generate(argv[1])
        return 0
    if len(argv) >= 2 and argv[0] == "analyze":
        started = time.perf_counter_ns()
        for arg in argv[1:]:
            path, _, minutes = arg.partition(":")
            print(json.dumps(analyze(path, int(minutes) if minutes else None)))
        print(f"compute_ns {time.perf_counter_ns() - started}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
