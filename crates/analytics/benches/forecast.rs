//! Holt-Winters fits and model selection on two days at one-minute steps (period 60).
//! `select/...` is the product's selection; `select/both_fits...` the original's (in-sample).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

mod common;

fn bench(c: &mut Criterion) {
    let x = common::series("hourly_add_2880");
    let mut g = c.benchmark_group("forecast");
    g.bench_function("fit/additive_2880_p60", |b| {
        b.iter(|| analytics::HoltWinters::additive(60).fit(black_box(&x)))
    });
    g.bench_function("fit/multiplicative_2880_p60", |b| {
        b.iter(|| analytics::HoltWinters::multiplicative(60).fit(black_box(&x)))
    });
    g.bench_function("fit/linear_2880", |b| {
        b.iter(|| analytics::HoltWinters::linear().fit(black_box(&x)))
    });
    let fitted = analytics::HoltWinters::additive(60).fit(&x).expect("fit");
    g.bench_function("forecast/h10", |b| {
        b.iter(|| black_box(&fitted).forecast(10, 0.95))
    });
    let opts = analytics::ForecastOptions::default();
    g.bench_function("select/both_fits_2880_p60", |b| {
        b.iter(|| analytics::forecast::fit_best(black_box(&x), Some(60)))
    });
    // The whole selection: every candidate (both Holt-Winters, MSTL + ETS, AutoETS) at 3
    // rolling origins, then the winner refitted.
    g.bench_function("select/all_candidates_2880_p60", |b| {
        b.iter(|| analytics::select(black_box(&x), &[60], &opts))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
