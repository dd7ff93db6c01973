#!/usr/bin/env python3
"""Generate the statsmodels reference fixtures for `tests/statsmodels.rs`.

Run by hand, never by CI:

    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install statsmodels numpy scipy pandas
    /work/venv-ref/bin/python crates/analytics/tests/reference/generate.py

Writes `data/<case>.csv` (one value per line, full precision) and `expected.json`
(statsmodels/numpy/scipy versions recorded) next to this script. The seed is fixed,
so rerunning with the same library versions reproduces the files byte for byte.
"""

import json
import math
import pathlib
import warnings

import numpy as np
import scipy
import statsmodels
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.stattools import acf, adfuller

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 20261122
HOLDOUT = 10  # forecast horizon used by the product

rng = np.random.default_rng(SEED)


def ar1(n, phi, sigma=1.0, mu=0.0):
    x = np.empty(n)
    x[0] = rng.normal(0, sigma / math.sqrt(max(1e-9, 1 - phi * phi)))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal(0, sigma)
    return x + mu


def seasonal(n, period, amp, noise, level, slope=0.0, mul=False):
    t = np.arange(n)
    shape = np.sin(2 * np.pi * t / period) + 0.3 * np.sin(4 * np.pi * t / period + 0.7)
    shape /= np.sqrt(np.mean(shape**2))  # unit RMS, so amp/noise is the SNR
    trend = level + slope * t
    eps = rng.normal(0, noise, n)
    if mul:
        # amp is the relative seasonal amplitude; noise stays additive
        return trend * (1 + amp * shape) + eps
    return trend + amp * shape + eps


# name -> (series, true period or None, snr or None, holt-winters period or None)
CASES = {}


def case(name, x, period=None, snr=None, hw=False):
    CASES[name] = (np.asarray(x, dtype=float), period, snr, hw)


case("short_white_noise_50", rng.normal(10, 1, 50))
case("white_noise_500", rng.normal(0, 1, 500))
case("white_noise_10000", rng.normal(100, 5, 10000))
case("random_walk_500", np.cumsum(rng.normal(0, 1, 500)) + 50)
case("random_walk_3000", np.cumsum(rng.normal(0, 1, 3000)) + 200, hw=True)
case("ar1_phi020_1000", ar1(1000, 0.2, mu=5), hw=True)
case("ar1_phi050_1000", ar1(1000, 0.5, mu=5))
case("ar1_phi090_2000", ar1(2000, 0.9, mu=20), hw=True)
case("ar1_phi099_2000", ar1(2000, 0.99, mu=50))
case("trend_noise_800", 10 + 0.05 * np.arange(800) + rng.normal(0, 1, 800), hw=True)
case(
    "level_shift_1000",
    np.where(np.arange(1000) < 600, 10.0, 14.0) + rng.normal(0, 1, 1000),
    hw=True,
)
case("hourly_add_300", seasonal(300, 60, 2.0, 1.0, 20.0), 60, 2.0, hw=True)
case("hourly_add_1440", seasonal(1440, 60, 3.0, 1.0, 50.0, 0.002), 60, 3.0, hw=True)
case("hourly_add_2880", seasonal(2880, 60, 2.0, 1.0, 100.0, -0.001), 60, 2.0, hw=True)
case("hourly_mul_1440", seasonal(1440, 60, 0.2, 2.0, 100.0, 0.01, mul=True), 60, None, hw=True)
case("hourly_mul_2880", seasonal(2880, 60, 0.3, 1.0, 30.0, 0.0, mul=True), 60, None, hw=True)
case("hourly_short_100", seasonal(100, 60, 2.0, 1.0, 20.0), None, None, hw=True)
case("daily_add_4320", seasonal(4320, 1440, 2.0, 1.0, 40.0), 1440, 2.0)
case("daily_mul_10000", seasonal(10000, 1440, 0.3, 1.0, 20.0, 0.0005, mul=True), 1440, None)


# Cases the selection must get right beyond Holt-Winters (drawn after all the above, so those
# series are unchanged). Weekly seasonality at hourly steps: a daily cycle whose amplitude
# differs on weekend days, plus noise; the Holt-Winters reference takes the weekly period.
def weekly(n, noise, level):
    t = np.arange(n)
    day = np.sin(2 * np.pi * t / 24)
    weekend = ((t // 24) % 7) >= 5
    return level + np.where(weekend, 1.0, 3.0) * day - 2.0 * weekend + rng.normal(0, noise, n)


HW_PERIOD = {}  # case -> Holt-Winters period (otherwise 60 for hourly_*, None for the rest)
PERIODS = {}  # case -> every seasonal period, strongest first (the selection's input)
case("weekly_hourly_1344", weekly(1344, 0.7, 30.0), hw=True)
HW_PERIOD["weekly_hourly_1344"] = 168
PERIODS["weekly_hourly_1344"] = [168, 24]
case("weekly_hourly_2016", weekly(2016, 1.0, 50.0) + 0.002 * np.arange(2016), hw=True)
HW_PERIOD["weekly_hourly_2016"] = 168
PERIODS["weekly_hourly_2016"] = [168, 24]
# Level shifts late in the history: the forecast must follow the new level.
case(
    "level_shift_late_1500",
    np.where(np.arange(1500) < 1420, 10.0, 16.0) + rng.normal(0, 1, 1500),
    hw=True,
)
case(
    "level_shift_hourly_1440",
    seasonal(1440, 60, 2.0, 1.0, 40.0) + np.where(np.arange(1440) < 1300, 0.0, 6.0),
    hw=True,
)
HW_PERIOD["level_shift_hourly_1440"] = 60
case(
    "level_shift_ar1_2000",
    ar1(2000, 0.5, mu=20) + np.where(np.arange(2000) < 1850, 0.0, -5.0),
    hw=True,
)

# multiplicative SNR: seasonal RMS relative to noise at the mean level
for name, (x, p, snr, hw) in list(CASES.items()):
    if p is not None and snr is None and "mul" in name:
        amp = {"hourly_mul_1440": 0.2, "hourly_mul_2880": 0.3, "daily_mul_10000": 0.3}[name]
        noise = {"hourly_mul_1440": 2.0, "hourly_mul_2880": 1.0, "daily_mul_10000": 1.0}[name]
        CASES[name] = (x, p, float(amp * np.mean(x) / noise), hw)


def fit_hw(train, period):
    kw = dict(trend="add")
    if period is not None and len(train) >= 2 * period:
        models = {"holt_winters_additive": dict(seasonal="add", seasonal_periods=period)}
        if np.all(train > 0):
            models["holt_winters_multiplicative"] = dict(seasonal="mul", seasonal_periods=period)
    else:
        models = {"holt_linear": {}}
    out = {}
    for name, extra in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ExponentialSmoothing(train, **kw, **extra).fit()
        out[name] = dict(
            sse=float(res.sse),
            rmse=float(math.sqrt(res.sse / len(train))),
            params=dict(
                alpha=float(res.params["smoothing_level"]),
                beta=float(res.params["smoothing_trend"]),
                gamma=(None if "seasonal" not in extra else float(res.params["smoothing_seasonal"])),
            ),
            forecast=[float(v) for v in res.forecast(HOLDOUT)],
        )
    return out


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    expected = {
        "versions": {
            "statsmodels": statsmodels.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "seed": SEED,
        "holdout": HOLDOUT,
        "cases": {},
    }
    for name, (x, period, snr, hw) in CASES.items():
        (DATA / f"{name}.csv").write_text("".join(f"{v!r}\n" for v in x.tolist()))
        n = len(x)
        adf = adfuller(x, regression="c", autolag="AIC", result_object=False)
        nlags = min(int(10 * np.log10(n)), n - 1)
        vals, confint = acf(x, nlags=nlags, alpha=0.05, fft=True, result_object=False)
        lags = [int(k) for k in range(nlags + 1) if confint[k, 0] > 0]
        entry = {
            "n": n,
            "true_period": period,
            "snr": snr,
            "adf": {
                "statistic": float(adf[0]),
                "p_value": float(adf[1]),
                "used_lag": int(adf[2]),
                "nobs": int(adf[3]),
            },
            "acf": {
                "nlags": nlags,
                "values": vals.tolist(),
                "lower": confint[:, 0].tolist(),
                "upper": confint[:, 1].tolist(),
                "significant_lags": lags,
            },
        }
        if hw:
            train, test = x[:-HOLDOUT], x[-HOLDOUT:]
            hw_period = HW_PERIOD.get(name, 60 if name.startswith("hourly") else None)
            fits = fit_hw(train, hw_period)
            for f in fits.values():
                f["holdout_rmse"] = float(
                    math.sqrt(np.mean((np.asarray(f["forecast"]) - test) ** 2))
                )
            best = min(fits, key=lambda k: fits[k]["sse"])
            entry["holt_winters"] = {
                "period": hw_period,
                "holdout": test.tolist(),
                "models": fits,
                "selected": best,
            }
            if name in PERIODS:
                entry["holt_winters"]["periods"] = PERIODS[name]
        expected["cases"][name] = entry
        print(name, n, adf[0], adf[1], adf[2], entry.get("holt_winters", {}).get("selected"))
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
