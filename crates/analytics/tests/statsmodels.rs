//! Compares the crate with statsmodels on the fixtures written by
//! `tests/reference/generate.py` (versions recorded in `expected.json`).

use std::sync::OnceLock;

use serde_json::Value;

/// ADF statistic: relative tolerance.
const ADF_STAT_REL: f64 = 1e-6;
/// ADF p-value: absolute tolerance.
const ADF_P_ABS: f64 = 1e-4;
/// ACF values and interval bounds: absolute tolerance.
const ACF_ABS: f64 = 1e-9;

fn expected() -> &'static Value {
    static EXPECTED: OnceLock<Value> = OnceLock::new();
    EXPECTED.get_or_init(|| {
        serde_json::from_str(include_str!("reference/expected.json")).expect("valid expected.json")
    })
}

fn case(name: &str) -> &'static Value {
    &expected()["cases"][name]
}

fn parse(csv: &str) -> Vec<f64> {
    csv.lines().map(|l| l.parse().expect("a number per line")).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn check_adf(name: &str, x: &[f64]) {
    let want = &case(name)["adf"];
    let got = analytics::adfuller(x, &analytics::AdfOptions::default()).expect("adf");
    let stat = want["statistic"].as_f64().unwrap();
    assert_eq!(got.used_lag as u64, want["used_lag"].as_u64().unwrap(), "used lag");
    assert_eq!(got.nobs as u64, want["nobs"].as_u64().unwrap(), "nobs");
    let rel = (got.statistic - stat).abs() / stat.abs();
    assert!(rel <= ADF_STAT_REL, "statistic {} vs {stat} (rel {rel:e})", got.statistic);
    let p = want["p_value"].as_f64().unwrap();
    assert!((got.p_value - p).abs() <= ADF_P_ABS, "p-value {} vs {p}", got.p_value);
}

fn check_acf(name: &str, x: &[f64]) {
    let want = &case(name)["acf"];
    let got = analytics::acf(x, &analytics::AcfOptions::default()).expect("acf");
    for (key, got) in [("values", &got.values), ("lower", &got.lower), ("upper", &got.upper)] {
        let want = floats(&want[key]);
        assert_eq!(got.len(), want.len(), "{key} length");
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= ACF_ABS, "{key}[{k}]: {g} vs {w}");
        }
    }
    let lags: Vec<usize> = want["significant_lags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(got.significant_lags(), lags);
}

/// One test module per check, one test per dataset: `adf_matches_statsmodels::white_noise_500`.
macro_rules! per_case {
    ($module:ident, $check:ident, [$($case:ident),* $(,)?]) => {
        mod $module {
            $(
                #[test]
                fn $case() {
                    let x = super::parse(include_str!(concat!("reference/data/", stringify!($case), ".csv")));
                    super::$check(stringify!($case), &x);
                }
            )*
        }
    };
}

macro_rules! all_cases {
    ($module:ident, $check:ident) => {
        per_case!($module, $check, [
            short_white_noise_50, white_noise_500, white_noise_10000, random_walk_500,
            random_walk_3000, ar1_phi020_1000, ar1_phi050_1000, ar1_phi090_2000,
            ar1_phi099_2000, trend_noise_800, level_shift_1000, hourly_add_300,
            hourly_add_1440, hourly_add_2880, hourly_mul_1440, hourly_mul_2880,
            hourly_short_100, daily_add_4320, daily_mul_10000,
        ]);
    };
}

all_cases!(adf_matches_statsmodels, check_adf);
all_cases!(acf_matches_statsmodels, check_acf);
