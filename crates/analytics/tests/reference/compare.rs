//! The comparisons with statsmodels that `tests/statsmodels.rs` asserts and
//! `examples/accuracy.rs` tabulates, written once so that the README's accuracy table
//! measures exactly what the tests check. Both include this file with `#[path]`; it is not a
//! test target of its own (Cargo builds only the files directly under `tests/`).

use serde_json::Value;

/// The values of a fixture CSV, one number per line.
pub(crate) fn parse(csv: &str) -> Vec<f64> {
    csv.lines()
        .map(|l| l.parse().expect("a number per line"))
        .collect()
}

/// A JSON array of numbers.
pub(crate) fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// A case's Holt-Winters split, from its `holt_winters` entry of `expected.json`: the
/// training part of `x`, the held-out values and the seasonal period.
pub(crate) fn hw_split<'a>(hw: &Value, x: &'a [f64]) -> (&'a [f64], Vec<f64>, Option<usize>) {
    let holdout = floats(&hw["holdout"]);
    let period = hw["period"].as_u64().map(|p| p as usize);
    (&x[..x.len() - holdout.len()], holdout, period)
}

/// The model statsmodels fitted under `name` (its key in `expected.json`), with the case's
/// period; without a period both seasonal models are Holt's linear trend.
pub(crate) fn holt_winters(name: &str, period: Option<usize>) -> analytics::HoltWinters {
    match (name, period) {
        ("holt_winters_additive", Some(p)) => analytics::HoltWinters::additive(p),
        ("holt_winters_multiplicative", Some(p)) => analytics::HoltWinters::multiplicative(p),
        ("holt_winters_additive" | "holt_winters_multiplicative" | "holt_linear", _) => {
            analytics::HoltWinters::linear()
        }
        (other, _) => panic!("unknown model {other}"),
    }
}

/// Root mean square difference between forecast `values` and the `holdout`.
pub(crate) fn holdout_rmse(values: &[f64], holdout: &[f64]) -> f64 {
    (values
        .iter()
        .zip(holdout)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / holdout.len() as f64)
        .sqrt()
}

/// How many held-out values lie inside the forecast's prediction interval.
pub(crate) fn covered(forecast: &analytics::Forecast, holdout: &[f64]) -> usize {
    holdout
        .iter()
        .enumerate()
        .filter(|&(i, v)| forecast.lower[i] <= *v && *v <= forecast.upper[i])
        .count()
}
