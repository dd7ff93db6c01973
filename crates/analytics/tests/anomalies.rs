//! Precision and recall of the anomaly detectors on planted histories (`anomalies/planted.rs`).
//!
//! Changepoints: 40 cases of 4,320 one-minute samples with 1 or 2 planted level or trend
//! changes (half with a daily cycle, half with AR(1) noise), and 10 clean cases. Outliers: 20
//! fleets of 100 hosts with 1 to 5 planted outlier hosts, and 6 clean fleets, for both augurs
//! detectors. A found changepoint counts as true when a planted one of the same kind lies
//! within the tolerance; a found outlier when it is a planted host and its `since` lies within
//! the tolerance of the planted step. `cargo test -p analytics --test anomalies -- --nocapture`
//! prints the figures quoted in the README.

use analytics::anomalies::{
    ChangeKind, ChangepointOptions, OutlierMethod, OutlierOptions, changepoints, outliers,
};

#[path = "anomalies/planted.rs"]
mod planted;

/// Changepoint cases with planted changes, and clean ones.
const CHANGE_CASES: u64 = 40;
const CLEAN_CASES: u64 = 10;
/// Planted outlier fleets, and clean ones, of this many hosts.
const FLEETS: u64 = 20;
const CLEAN_FLEETS: u64 = 6;
const HOSTS: usize = 100;

/// How far a found changepoint may lie from the planted one, in samples.
const LEVEL_TOLERANCE: usize = 5;
const TREND_TOLERANCE: usize = 30;
/// How far an outlier's `since` may lie from the planted step, in samples (two blocks).
const SINCE_TOLERANCE: usize = 20;

const BOUND: f64 = 0.9;

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    planted: usize,
    found: usize,
    matched: usize,
}

impl Tally {
    fn precision(&self) -> f64 {
        if self.found == 0 {
            1.0
        } else {
            self.matched as f64 / self.found as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.planted == 0 {
            1.0
        } else {
            self.matched as f64 / self.planted as f64
        }
    }
}

fn tolerance(kind: ChangeKind) -> usize {
    match kind {
        ChangeKind::Level => LEVEL_TOLERANCE,
        ChangeKind::Trend => TREND_TOLERANCE,
    }
}

/// Runs the changepoint detector on the planted and the clean cases: the tally per kind over
/// the planted cases, and the number of changepoints found on clean cases.
fn changepoint_tally(base: &ChangepointOptions) -> ([Tally; 2], usize) {
    let mut tally = [Tally::default(); 2];
    for seed in 0..CHANGE_CASES {
        let case = planted::change_case(seed);
        let opts = ChangepointOptions {
            period: case.period,
            ..base.clone()
        };
        let found = changepoints(&case.values, &opts).unwrap();
        let mut used = vec![false; found.len()];
        for &(kind, at) in &case.planted {
            let t = &mut tally[(kind == ChangeKind::Trend) as usize];
            t.planted += 1;
            let hit = found.iter().enumerate().position(|(i, f)| {
                !used[i] && f.kind == kind && f.index.abs_diff(at) <= tolerance(kind)
            });
            match hit {
                Some(i) => {
                    used[i] = true;
                    t.matched += 1;
                }
                None => eprintln!("{}: missed {kind:?} at {at}; found {found:?}", case.name),
            }
        }
        for (f, used) in found.iter().zip(&used) {
            tally[(f.kind == ChangeKind::Trend) as usize].found += 1;
            if !used {
                eprintln!("{}: spurious {f:?}; planted {:?}", case.name, case.planted);
            }
        }
    }
    let mut on_clean = 0;
    for seed in 0..CLEAN_CASES {
        let case = planted::clean_case(1_000 + seed);
        let opts = ChangepointOptions {
            period: case.period,
            ..base.clone()
        };
        let found = changepoints(&case.values, &opts).unwrap();
        if !found.is_empty() {
            eprintln!("{}: found {found:?} on a clean case", case.name);
        }
        on_clean += found.len();
    }
    (tally, on_clean)
}

/// Runs the outlier detector on the planted and the clean fleets.
fn outlier_tally(base: &OutlierOptions) -> (Tally, usize) {
    let mut tally = Tally::default();
    for seed in 0..FLEETS {
        let fleet = planted::fleet(seed, HOSTS, 1 + (seed % 5) as usize);
        let rows: Vec<&[f64]> = fleet.hosts.iter().map(Vec::as_slice).collect();
        let found = outliers(&rows, base).unwrap().outliers;
        tally.planted += fleet.planted.len();
        tally.found += found.len();
        for o in &found {
            let planted = fleet.planted.iter().find(|&&(h, _)| h == o.series);
            match planted {
                Some(&(_, since)) if o.since.abs_diff(since) <= SINCE_TOLERANCE => {
                    tally.matched += 1;
                }
                _ => eprintln!("{}: {o:?} against planted {:?}", fleet.name, fleet.planted),
            }
        }
    }
    let mut on_clean = 0;
    for seed in 0..CLEAN_FLEETS {
        let fleet = planted::fleet(1_000 + seed, HOSTS, 0);
        let rows: Vec<&[f64]> = fleet.hosts.iter().map(Vec::as_slice).collect();
        let found = outliers(&rows, base).unwrap().outliers;
        if !found.is_empty() {
            eprintln!("{}: {found:?} on a clean fleet", fleet.name);
        }
        on_clean += found.len();
    }
    (tally, on_clean)
}

fn report(what: &str, t: &Tally) {
    println!(
        "{what}: planted {}, found {}, matched {}, precision {:.3}, recall {:.3}",
        t.planted,
        t.found,
        t.matched,
        t.precision(),
        t.recall()
    );
}

#[test]
fn changepoints_reach_the_precision_and_recall_bounds_and_stay_quiet_on_clean_cases() {
    let ([level, trend], on_clean) = changepoint_tally(&ChangepointOptions::default());
    report("level shifts", &level);
    report("trend shifts", &trend);
    println!("changepoints on {CLEAN_CASES} clean cases: {on_clean}");
    for (what, t) in [("level", level), ("trend", trend)] {
        assert!(t.planted >= 15, "{what}: too few planted cases ({t:?})");
        assert!(t.precision() >= BOUND, "{what} precision {t:?}");
        assert!(t.recall() >= BOUND, "{what} recall {t:?}");
    }
    assert_eq!(on_clean, 0, "changepoints on clean cases");
}

#[test]
fn outliers_reach_the_precision_and_recall_bounds_and_stay_quiet_on_clean_fleets() {
    for method in [OutlierMethod::Mad, OutlierMethod::Dbscan] {
        let opts = OutlierOptions {
            method,
            ..OutlierOptions::default()
        };
        let (t, on_clean) = outlier_tally(&opts);
        report(&format!("outliers ({method:?})"), &t);
        println!("outliers ({method:?}) on {CLEAN_FLEETS} clean fleets: {on_clean}");
        assert!(t.precision() >= BOUND, "{method:?} precision {t:?}");
        assert!(t.recall() >= BOUND, "{method:?} recall {t:?}");
        assert_eq!(on_clean, 0, "{method:?} outliers on clean fleets");
    }
}

// The checks above fail when the detector is wrong: a threshold far too high misses the
// planted anomalies (recall), one far too low reports noise (precision, clean cases). These
// keep that demonstration runnable.

#[test]
fn the_changepoint_check_fails_a_deaf_or_an_eager_detector() {
    let deaf = ChangepointOptions {
        min_level_shift: 50.0,
        min_trend_change: 100.0,
        ..ChangepointOptions::default()
    };
    let ([level, trend], _) = changepoint_tally(&deaf);
    assert!(level.recall() < BOUND && trend.recall() < BOUND);
    let eager = ChangepointOptions {
        min_level_shift: 0.5,
        min_trend_change: 0.5,
        ..ChangepointOptions::default()
    };
    let ([level, trend], on_clean) = changepoint_tally(&eager);
    assert!(level.precision() < BOUND || trend.precision() < BOUND);
    assert!(on_clean > 0);
}

#[test]
fn the_outlier_check_fails_a_deaf_or_an_eager_detector() {
    let deaf = OutlierOptions {
        mad_threshold: 100.0,
        ..OutlierOptions::default()
    };
    assert!(outlier_tally(&deaf).0.recall() < BOUND);
    let eager = OutlierOptions {
        method: OutlierMethod::Dbscan,
        dbscan_epsilon: 0.3,
        ..OutlierOptions::default()
    };
    let (t, on_clean) = outlier_tally(&eager);
    assert!(t.precision() < BOUND);
    assert!(on_clean > 0);
}
