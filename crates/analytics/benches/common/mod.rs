//! Reference series shared by the benches (the same files the statsmodels tests read):
//! `daily_add_4320` (three days at one-minute steps, daily period), `hourly_add_2880` (two
//! days, hourly period) and `random_walk_3000`.

/// Parses the `tests/reference/data/<name>.csv` fixture.
pub(crate) fn series(name: &str) -> Vec<f64> {
    let csv = match name {
        "daily_add_4320" => include_str!("../../tests/reference/data/daily_add_4320.csv"),
        "hourly_add_2880" => include_str!("../../tests/reference/data/hourly_add_2880.csv"),
        "random_walk_3000" => include_str!("../../tests/reference/data/random_walk_3000.csv"),
        other => panic!("no fixture {other}"),
    };
    csv.lines()
        .map(|l| l.parse().expect("a number per line"))
        .collect()
}
