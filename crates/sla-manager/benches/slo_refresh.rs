//! The objectives' refresh: 100 range SLAs with 30-day objectives evaluated now, against the
//! real SecantusDB and target Prometheus of `scripts/test.sh` (`TEST_MONGO_URI`,
//! `TEST_PROMETHEUS_URL`, `TEST_SYNTHETIC_MANIFEST`).
//!
//! - `subqueries`: the path before the stored minutes (the baseline): two PromQL subqueries
//!   per window, 16 per objective, over up to 30 days at a 1-minute step.
//! - `stored_minutes`: what each refresh does once the minutes are back-filled (done once
//!   before measuring): per objective, one range query of the last 6 minutes, one upsert, and
//!   the windows summed in memory.
//!
//! `cargo bench -p sla-manager --bench slo_refresh` under `scripts/test.sh`'s services (see the
//! README's figure); in test mode (`cargo test --benches`) each runs once, over 10 objectives.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use common::{
    promql::PromClient,
    sla::{Sla, SlaRange},
    store::MetricsRepository,
    testing,
};
use criterion::{Criterion, criterion_group, criterion_main};
use sla_manager::{
    domain::slo::{Objective, Window},
    instruments::Instruments,
    manager::{CountsMode, Manager},
    repository::{SlaSetRepository, StoredSla},
};
use synthetic::Manifest;

/// 100 objectives in a measured run, 10 in test mode (where only "it still runs" matters).
fn objectives() -> usize {
    if std::env::args().any(|arg| arg == "--bench") {
        100
    } else {
        10
    }
}

/// `n` range SLAs over the synthetic series, each with its own range (so its own minutes) and
/// a 30-day objective.
fn set(n: usize) -> Vec<StoredSla> {
    let manifest = Manifest::load(testing::synthetic_manifest()).expect("the synthetic manifest");
    (0..n)
        .map(|i| {
            let series = &manifest.series[i % manifest.series.len()];
            let sla = Sla {
                name: series.labels.clone().into_iter().collect(),
                range: SlaRange {
                    min: 0.0,
                    max: 50.0 + i as f64,
                },
                for_minutes: 5,
            };
            StoredSla {
                id: sla.id(),
                sla,
                position: i as u32,
                objective: Some(Objective {
                    target: 0.999,
                    window: Window::Rolling { days: 30 },
                }),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let runtime = &runtime;
    let manager = runtime.block_on(async {
        let client = mongodb::Client::with_uri_str(testing::mongo_uri())
            .await
            .expect("a database client");
        let database = client.database(&testing::unique_name("slo_bench"));
        let prometheus = PromClient::new(testing::prometheus_url(), Duration::from_secs(120))
            .expect("a Prometheus client");
        let registry = prometheus::Registry::new();
        Manager::new(
            SlaSetRepository::new(&database),
            MetricsRepository::new(&database),
            prometheus,
            Arc::new(Instruments::register(&registry).expect("the instruments")),
            1,
        )
    });
    let set = set(objectives());
    // Both paths evaluate the objectives 10 at a time (`slo_of` runs a set's objectives at
    // once: 1,600 subqueries at once time out on the test Prometheus).
    let refresh = |mode| {
        runtime.block_on(async {
            for batch in set.chunks(10) {
                manager
                    .slo_of(batch, Utc::now(), mode)
                    .await
                    .expect("the figures");
            }
        })
    };
    // The back-fill, once: 30 days and a day of minutes per objective.
    let started = std::time::Instant::now();
    refresh(CountsMode::Backfill);
    eprintln!(
        "back-fill of {} objectives of 30 days: {:.1} s",
        set.len(),
        started.elapsed().as_secs_f64()
    );

    let mut group = c.benchmark_group(format!("slo_refresh/{}_objectives_30d", set.len()));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("subqueries", |b| b.iter(|| refresh(CountsMode::Subqueries)));
    group.bench_function("stored_minutes", |b| {
        b.iter(|| refresh(CountsMode::Backfill))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
