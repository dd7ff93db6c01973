//! Prints the accuracy table of the README: this crate against the statsmodels fixtures of
//! `tests/reference` (the same comparisons `tests/statsmodels.rs` asserts).
//!
//! `cargo run --release -p analytics --example accuracy`

use std::path::Path;

use serde_json::Value;

#[path = "../tests/reference/compare.rs"]
mod compare;

use compare::{covered, floats, holdout_rmse, holt_winters, hw_split, parse};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("valid JSON");
    let (mut adf_rel, mut adf_p, mut lag_mismatch, mut acf_abs, mut acf_lags_mismatch) =
        (0.0f64, 0.0f64, 0, 0.0f64, 0);
    let (mut sse_ratio_max, mut holdout_ratios, mut covered_points, mut total) =
        (0.0f64, vec![], 0, 0);
    // The selection (`analytics::select`) against statsmodels' own choice (lowest SSE).
    let (mut selection_rows, mut sel_covered, mut sel_total) = (vec![], 0, 0);
    let (mut period_rel_max, mut seasonal_cases, mut null_cases, mut null_false) =
        (0.0f64, 0, 0, 0);
    let cases = expected["cases"].as_object().expect("cases");
    for (name, c) in cases {
        let x = parse(&std::fs::read_to_string(dir.join(format!("data/{name}.csv"))).expect("csv"));
        let adf = analytics::adfuller(&x, &Default::default()).expect("adf");
        let stat = c["adf"]["statistic"].as_f64().unwrap();
        adf_rel = adf_rel.max((adf.statistic - stat).abs() / stat.abs());
        adf_p = adf_p.max((adf.p_value - c["adf"]["p_value"].as_f64().unwrap()).abs());
        lag_mismatch += usize::from(adf.used_lag as u64 != c["adf"]["used_lag"].as_u64().unwrap());
        let acf = analytics::acf(&x, &Default::default()).expect("acf");
        for key in ["values", "lower", "upper"] {
            let got = match key {
                "values" => &acf.values,
                "lower" => &acf.lower,
                _ => &acf.upper,
            };
            for (g, w) in got.iter().zip(floats(&c["acf"][key])) {
                acf_abs = acf_abs.max((g - w).abs());
            }
        }
        let lags: Vec<usize> = c["acf"]["significant_lags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        acf_lags_mismatch += usize::from(acf.significant_lags() != lags);
        let s = analytics::seasonality(&x, &Default::default()).expect("seasonality");
        if let (Some(p), Some(snr)) = (c["true_period"].as_u64(), c["snr"].as_f64())
            && snr >= 2.0
        {
            seasonal_cases += 1;
            let got = s.period.map_or(f64::INFINITY, |g| g as f64);
            period_rel_max = period_rel_max.max((got - p as f64).abs() / p as f64);
        }
        if name.contains("white_noise") || name.contains("random_walk") {
            null_cases += 1;
            null_false += usize::from(s.period.is_some());
        }
        let hw = &c["holt_winters"];
        if hw.is_null() {
            continue;
        }
        let (train, holdout, period) = hw_split(hw, &x);
        let sm_best = hw["models"]
            .as_object()
            .unwrap()
            .values()
            .min_by(|a, b| {
                a["sse"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["sse"].as_f64().unwrap())
            })
            .unwrap();
        let options = analytics::ForecastOptions {
            horizon: holdout.len(),
            ..Default::default()
        };
        // The seasonal periods the selection is given: the case's own list (strongest first)
        // where it has one, else the Holt-Winters period.
        let periods: Vec<usize> = match hw["periods"].as_array() {
            Some(list) => list.iter().map(|p| p.as_u64().unwrap() as usize).collect(),
            None => period.into_iter().collect(),
        };
        let selection = analytics::select(train, &periods, &options).expect("select");
        let f = &selection.forecast;
        sel_covered += covered(f, &holdout);
        sel_total += holdout.len();
        selection_rows.push((
            name.clone(),
            f.model.name(),
            holdout_rmse(&f.values, &holdout) / sm_best["holdout_rmse"].as_f64().unwrap(),
        ));
        for (model, want) in hw["models"].as_object().unwrap() {
            let fit = holt_winters(model, period).fit(train).expect("fit");
            sse_ratio_max = sse_ratio_max.max(fit.sse / want["sse"].as_f64().unwrap());
            let f = fit.forecast(holdout.len(), 0.95);
            let rmse = holdout_rmse(&f.values, &holdout);
            holdout_ratios.push(rmse / want["holdout_rmse"].as_f64().unwrap());
            covered_points += covered(&f, &holdout);
            total += holdout.len();
        }
    }
    holdout_ratios.sort_by(f64::total_cmp);
    let median = holdout_ratios[holdout_ratios.len() / 2];
    let versions = &expected["versions"];
    println!(
        "Against statsmodels {} ({} series, {} Holt-Winters fits)\n",
        versions["statsmodels"].as_str().unwrap_or("?"),
        cases.len(),
        holdout_ratios.len()
    );
    println!("| quantity | measured | tolerance |");
    println!("|---|---|---|");
    println!("| ADF statistic, worst relative error | {adf_rel:.1e} | 1e-6 |");
    println!("| ADF p-value, worst absolute difference | {adf_p:.1e} | 1e-4 |");
    println!("| ADF used lag, mismatches | {lag_mismatch} | 0 |");
    println!(
        "| ACF values and Bartlett bounds, worst absolute difference | {acf_abs:.1e} | 1e-9 |"
    );
    println!("| ACF reported lag sets, mismatches | {acf_lags_mismatch} | 0 |");
    println!(
        "| Seasonal period, worst relative error ({seasonal_cases} cases, SNR >= 2) | {period_rel_max:.2e} | 1e-2 |"
    );
    println!(
        "| Period reported on white noise / random walks | {null_false} of {null_cases} | 0 |"
    );
    println!("| Holt-Winters SSE / statsmodels SSE, worst | {sse_ratio_max:.4} | <= 1.01 |");
    println!(
        "| Held-out RMSE / statsmodels', median (min {:.3}, max {:.3}) | {median:.4} | <= 1.05 |",
        holdout_ratios[0],
        holdout_ratios[holdout_ratios.len() - 1]
    );
    println!(
        "| 95% interval coverage of held-out points | {:.1}% ({covered_points}/{total}) | 90-99% |",
        100.0 * covered_points as f64 / total as f64
    );
    println!(
        "\nSelection by rolling-origin held-out error against statsmodels' Holt-Winters choice\n"
    );
    println!("| case | model kept | held-out RMSE / statsmodels' |");
    println!("|---|---|---|");
    for (case, model, ratio) in &selection_rows {
        println!("| {case} | {model} | {ratio:.3} |");
    }
    let mut ratios: Vec<f64> = selection_rows.iter().map(|r| r.2).collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "\n| quantity | measured | goal |\n|---|---|---|\n| held-out RMSE / statsmodels', median (min {:.3}, max {:.3}) | {:.3} | <= 0.90, none above 1.10 |",
        ratios[0],
        ratios[ratios.len() - 1],
        ratios[ratios.len() / 2]
    );
    println!(
        "| 95% interval coverage of held-out points | {:.1}% ({sel_covered}/{sel_total}) | 93-97% |",
        100.0 * sel_covered as f64 / sel_total as f64
    );
}
