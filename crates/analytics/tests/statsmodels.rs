//! Compares the crate with statsmodels on the fixtures written by
//! `tests/reference/generate.py` (versions recorded in `expected.json`).

use std::sync::OnceLock;

use serde_json::Value;

#[path = "reference/compare.rs"]
mod compare;

use compare::{covered, floats, holdout_rmse, holt_winters, hw_split, parse};

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

fn check_adf(name: &str, x: &[f64]) {
    let want = &case(name)["adf"];
    let got = analytics::adfuller(x, &analytics::AdfOptions::default()).expect("adf");
    let stat = want["statistic"].as_f64().unwrap();
    assert_eq!(
        got.used_lag as u64,
        want["used_lag"].as_u64().unwrap(),
        "used lag"
    );
    assert_eq!(got.nobs as u64, want["nobs"].as_u64().unwrap(), "nobs");
    let rel = (got.statistic - stat).abs() / stat.abs();
    assert!(
        rel <= ADF_STAT_REL,
        "statistic {} vs {stat} (rel {rel:e})",
        got.statistic
    );
    let p = want["p_value"].as_f64().unwrap();
    assert!(
        (got.p_value - p).abs() <= ADF_P_ABS,
        "p-value {} vs {p}",
        got.p_value
    );
}

fn check_acf(name: &str, x: &[f64]) {
    let want = &case(name)["acf"];
    let got = analytics::acf(x, &analytics::AcfOptions::default()).expect("acf");
    for (key, got) in [
        ("values", &got.values),
        ("lower", &got.lower),
        ("upper", &got.upper),
    ] {
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
/// The datasets come in one or more bracketed lists.
macro_rules! per_case {
    ($module:ident, $check:ident, $([$($case:ident),* $(,)?])+) => {
        mod $module {
            $($(
                #[test]
                fn $case() {
                    let x = super::parse(include_str!(concat!("reference/data/", stringify!($case), ".csv")));
                    super::$check(stringify!($case), &x);
                }
            )*)+
        }
    };
}

/// The cases with a Holt-Winters fixture, listed once: `hw_cases!(m!(args))` expands to
/// `m!(args [cases])`, for the per-case tests and for the table over all of them.
macro_rules! hw_cases {
    ($callback:ident!($($args:tt)*)) => {
        $callback! {
            $($args)*
            [
                random_walk_3000,
                ar1_phi020_1000,
                ar1_phi090_2000,
                trend_noise_800,
                level_shift_1000,
                hourly_add_300,
                hourly_add_1440,
                hourly_add_2880,
                hourly_mul_1440,
                hourly_mul_2880,
                hourly_short_100,
            ]
        }
    };
}

/// Every case: those without a Holt-Winters fixture, then the `hw_cases`.
macro_rules! all_cases {
    ($module:ident, $check:ident) => {
        hw_cases!(per_case!(
            $module,
            $check,
            [
                short_white_noise_50,
                white_noise_500,
                white_noise_10000,
                random_walk_500,
                ar1_phi050_1000,
                ar1_phi099_2000,
                daily_add_4320,
                daily_mul_10000,
            ]
        ));
    };
}

all_cases!(adf_matches_statsmodels, check_adf);
all_cases!(acf_matches_statsmodels, check_acf);

/// Holt-Winters in-sample SSE: at most this multiple of statsmodels'.
const HW_SSE_RATIO: f64 = 1.01;
/// Median over cases of (our held-out RMSE / statsmodels'): at most this.
const HW_HOLDOUT_RMSE_MEDIAN_RATIO: f64 = 1.05;
/// Coverage of the 95% intervals over all held-out points.
const COVERAGE: std::ops::RangeInclusive<f64> = 0.90..=0.99;

/// Per fitted model: (case, model, our SSE, statsmodels SSE, our holdout RMSE, theirs,
/// held-out points covered, held-out points).
type HwRow = (String, String, f64, f64, f64, f64, usize, usize);

fn hw_rows(name: &str, x: &[f64]) -> Vec<HwRow> {
    let want = &case(name)["holt_winters"];
    let (train, holdout, period) = hw_split(want, x);
    let mut rows = Vec::new();
    for (model_name, expected) in want["models"].as_object().unwrap() {
        let fit = holt_winters(model_name, period).fit(train).expect("fit");
        let f = fit.forecast(holdout.len(), 0.95);
        let rmse = holdout_rmse(&f.values, &holdout);
        let covered = covered(&f, &holdout);
        rows.push((
            name.to_string(),
            model_name.clone(),
            fit.sse,
            expected["sse"].as_f64().unwrap(),
            rmse,
            expected["holdout_rmse"].as_f64().unwrap(),
            covered,
            holdout.len(),
        ));
    }
    rows
}

/// Each model alone, and the selection (whose multiplicative search also starts where the
/// additive one ended): its SSE against statsmodels' best candidate.
fn check_hw(name: &str, x: &[f64]) {
    let rows = hw_rows(name, x);
    for (case, model, sse, sm_sse, ..) in &rows {
        assert!(
            *sse <= HW_SSE_RATIO * sm_sse,
            "{case} {model}: SSE {sse} vs statsmodels {sm_sse}"
        );
    }
    let (train, _, period) = hw_split(&case(name)["holt_winters"], x);
    let best = analytics::forecast::fit_best(train, period).expect("fit");
    let sm_best = rows.iter().map(|r| r.3).fold(f64::INFINITY, f64::min);
    assert!(
        best.sse <= HW_SSE_RATIO * sm_best,
        "{name} selection: SSE {} vs statsmodels' best {sm_best}",
        best.sse
    );
}

hw_cases!(per_case!(holt_winters_sse_matches_statsmodels, check_hw,));

fn all_hw_rows() -> Vec<HwRow> {
    macro_rules! rows {
        ([$($case:ident),* $(,)?]) => {{
            let mut all = Vec::new();
            $(all.extend(hw_rows(
                stringify!($case),
                &parse(include_str!(concat!("reference/data/", stringify!($case), ".csv"))),
            ));)*
            all
        }};
    }
    hw_cases!(rows!())
}

#[test]
fn holt_winters_holdout_rmse_and_coverage_over_all_cases() {
    let rows = all_hw_rows();
    let mut ratios: Vec<f64> = rows.iter().map(|r| r.4 / r.5).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let covered: usize = rows.iter().map(|r| r.6).sum();
    let total: usize = rows.iter().map(|r| r.7).sum();
    let coverage = covered as f64 / total as f64;
    for r in &rows {
        eprintln!(
            "{:<18} {:<28} sse {:.4} / {:.4} = {:.5}  holdout rmse {:.4} / {:.4}  covered {}/{}",
            r.0,
            r.1,
            r.2,
            r.3,
            r.2 / r.3,
            r.4,
            r.5,
            r.6,
            r.7
        );
    }
    eprintln!("median holdout RMSE ratio {median:.4}, coverage {coverage:.3}");
    assert!(
        median <= HW_HOLDOUT_RMSE_MEDIAN_RATIO,
        "median ratio {median}"
    );
    assert!(COVERAGE.contains(&coverage), "coverage {coverage}");
}

/// Detected period: relative tolerance against the true period.
const PERIOD_REL: f64 = 0.01;
/// Seasonal cases are asserted when their signal-to-noise ratio is at least this.
const MIN_SNR: f64 = 2.0;

fn check_seasonality(name: &str, x: &[f64]) {
    let c = case(name);
    let got =
        analytics::seasonality(x, &analytics::SeasonalityOptions::default()).expect("seasonality");
    eprintln!("{name}: {got:?}");
    if name.contains("white_noise") || name.contains("random_walk") {
        assert_eq!(got.period, None, "{name}: no period expected");
    }
    if let (Some(truth), Some(snr)) = (c["true_period"].as_u64(), c["snr"].as_f64())
        && snr >= MIN_SNR
    {
        let period = got.period.expect("a period") as f64;
        let rel = (period - truth as f64).abs() / truth as f64;
        assert!(rel <= PERIOD_REL, "{name}: period {period} vs {truth}");
    }
}

all_cases!(seasonality_matches_truth, check_seasonality);
