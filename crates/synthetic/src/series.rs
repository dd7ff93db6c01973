//! The series definitions and their values.

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use serde::{Deserialize, Serialize};

use crate::noise::{fnv1a, gaussian, splitmix64};
use crate::sla::{self, SlaSpec};

/// Resolution of every series, in seconds.
pub const STEP_SECONDS: i64 = 60;
/// History length written by default, in days.
pub const DEFAULT_DAYS: u32 = 3;
/// Seed used unless one is given.
pub const DEFAULT_SEED: u64 = 20_251_122;
/// Metric name of the `--bulk` series (one per `shard` label value).
pub const BULK_NAME: &str = "synthetic_bulk";

const DAY: f64 = 86_400.0;
const HOUR: f64 = 3_600.0;

/// What to generate: the anchor, the length, the bulk size and the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Unix time (seconds) of the last sample; a multiple of [`STEP_SECONDS`].
    pub end: i64,
    /// Length of the history in days; samples cover `[end - days*86400, end]`.
    pub days: u32,
    /// Number of extra `synthetic_bulk{shard="i"}` series.
    pub bulk: u32,
    /// Seed of the noise.
    pub seed: u64,
}

impl Config {
    /// [`DEFAULT_DAYS`] days ending at `end` (rounded down to the minute), no bulk, default seed.
    pub fn new(end: i64) -> Self {
        Self {
            end: end - end.rem_euclid(STEP_SECONDS),
            days: DEFAULT_DAYS,
            bulk: 0,
            seed: DEFAULT_SEED,
        }
    }

    /// Unix time of the first sample.
    pub fn start(&self) -> i64 {
        self.end - i64::from(self.days) * 86_400
    }

    /// Number of samples per series (`days * 1440 + 1`, both ends included).
    pub fn samples_per_series(&self) -> usize {
        (i64::from(self.days) * 1440 + 1) as usize
    }

    /// Every sample time, ascending.
    pub fn timestamps(&self) -> impl Iterator<Item = i64> + use<> {
        (self.start()..=self.end).step_by(STEP_SECONDS as usize)
    }
}

/// The known shape of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `100 + 20 sin(2πt/1d) + 5 sin(2πt/1h) + N(0, 1)`: additive seasonality, periods 1440 and 60 minutes.
    Seasonal,
    /// `10 + 0.01 m + N(0, 2)`, `m` minutes since the start: a linear trend.
    TrendNoise,
    /// `50 + N(0, 10)`: white noise.
    Noise,
    /// Always `42`.
    Constant,
    /// Latency-like values inside the SLA range except during the runs of [`SlaSpec`].
    SlaLatency,
    /// `(50 + 0.005 m)(1 + 0.3 sin(2πt/1d) + 0.1 sin(2πt/1h))(1 + 0.01 N(0, 1))`: positive, multiplicative seasonality.
    MulSeasonal,
    /// `10 + s%97 + (1 + s%13) sin(2πt/1d + 0.37 s) + N(0, 1)` for shard `s`.
    Bulk {
        /// The `shard` label value.
        shard: u32,
    },
}

impl Shape {
    /// The seasonal periods built into the shape, in minutes, longest first (empty when it has
    /// none): what a seasonality detector should find.
    pub fn periods_minutes(self) -> &'static [f64] {
        match self {
            Shape::Seasonal | Shape::MulSeasonal => &[1440.0, 60.0],
            Shape::Bulk { .. } => &[1440.0],
            Shape::SlaLatency => &[60.0],
            Shape::TrendNoise | Shape::Noise | Shape::Constant => &[],
        }
    }
}

/// One synthetic series: its labels, its shape and what its value depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    name: String,
    labels: BTreeMap<String, String>,
    shape: Shape,
    key: u64,
    start: i64,
    sla: Option<SlaSpec>,
}

impl Series {
    fn new(name: &str, extra: &[(&str, String)], shape: Shape, config: &Config) -> Self {
        let mut labels = BTreeMap::new();
        labels.insert("job".to_owned(), "synthetic".to_owned());
        labels.insert("instance".to_owned(), "synthetic:0".to_owned());
        for (k, v) in extra {
            labels.insert((*k).to_owned(), v.clone());
        }
        let mut series = Self {
            name: name.to_owned(),
            labels,
            shape,
            key: 0,
            start: config.start(),
            sla: (shape == Shape::SlaLatency).then(|| sla::spec(config)),
        };
        series.key = splitmix64(config.seed ^ fnv1a(series.selector().as_bytes()));
        series
    }

    /// The metric name (`__name__`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The labels without `__name__`, sorted.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// The full label set, `__name__` included, as the system identifies series.
    pub fn label_set(&self) -> BTreeMap<String, String> {
        let mut all = self.labels.clone();
        all.insert("__name__".to_owned(), self.name.clone());
        all
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// A PromQL selector matching exactly this series, e.g. `synthetic_noise{instance="synthetic:0",job="synthetic"}`.
    pub fn selector(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", crate::escape_label_value(v)))
            .collect();
        format!("{}{{{}}}", self.name, labels.join(","))
    }

    /// The value written at unix time `t` (any `t`; samples exist at each minute of the history).
    ///
    /// Values are rounded to 4 decimals, so their shortest decimal form is
    /// short and Prometheus parses back exactly this `f64`.
    pub fn value(&self, t: i64) -> f64 {
        let tf = t as f64;
        let minutes = (t - self.start) as f64 / 60.0;
        let n = gaussian(self.key, t);
        let raw = match self.shape {
            Shape::Seasonal => {
                100.0 + 20.0 * (TAU * tf / DAY).sin() + 5.0 * (TAU * tf / HOUR).sin() + n
            }
            Shape::TrendNoise => 10.0 + 0.01 * minutes + 2.0 * n,
            Shape::Noise => 50.0 + 10.0 * n,
            Shape::Constant => 42.0,
            Shape::SlaLatency => match &self.sla {
                Some(spec) => spec.value(t, tf, n),
                None => f64::NAN,
            },
            Shape::MulSeasonal => {
                (50.0 + 0.005 * minutes)
                    * (1.0 + 0.3 * (TAU * tf / DAY).sin() + 0.1 * (TAU * tf / HOUR).sin())
                    * (1.0 + 0.01 * n)
            }
            Shape::Bulk { shard } => {
                let s = f64::from(shard);
                10.0 + f64::from(shard % 97)
                    + (1.0 + f64::from(shard % 13)) * (TAU * tf / DAY + 0.37 * s).sin()
                    + n
            }
        };
        (raw * 1e4).round() / 1e4
    }
}

/// The value of `series` at `t`: same as [`Series::value`].
pub fn value(series: &Series, t: i64) -> f64 {
    series.value(t)
}

/// Statistics of the raw samples in a window, as Prometheus' `*_over_time` compute them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    /// `min_over_time`.
    pub min: f64,
    /// `max_over_time`.
    pub max: f64,
    /// `avg_over_time`.
    pub avg: f64,
    /// `stddev_over_time` (population standard deviation).
    pub std_dev: f64,
    /// `count_over_time`.
    pub count: usize,
}

/// Every series of one run of the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    config: Config,
    series: Vec<Series>,
}

impl Dataset {
    /// The fixed series, then `config.bulk` bulk series, in output order.
    pub fn new(config: Config) -> Self {
        let fixed = [
            ("synthetic_seasonal", Shape::Seasonal),
            ("synthetic_trend", Shape::TrendNoise),
            ("synthetic_noise", Shape::Noise),
            ("synthetic_constant", Shape::Constant),
            (sla::SLA_NAME, Shape::SlaLatency),
            ("synthetic_mul_seasonal", Shape::MulSeasonal),
        ];
        let mut series: Vec<Series> = fixed
            .iter()
            .map(|(name, shape)| Series::new(name, &[], *shape, &config))
            .collect();
        series.extend((0..config.bulk).map(|shard| {
            Series::new(
                BULK_NAME,
                &[("shard", shard.to_string())],
                Shape::Bulk { shard },
                &config,
            )
        }));
        Self { config, series }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every series, in output order.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// The first series with this metric name.
    pub fn series_named(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }

    /// The SLA series' range, `for` and out-of-range runs.
    pub fn sla(&self) -> &SlaSpec {
        self.series
            .iter()
            .find_map(|s| s.sla.as_ref())
            .expect("the SLA series is always generated")
    }

    /// The samples of `series`, ascending.
    pub fn samples<'a>(&self, series: &'a Series) -> impl Iterator<Item = (i64, f64)> + 'a {
        self.config.timestamps().map(move |t| (t, series.value(t)))
    }

    /// The samples with `from <= t < to`, ascending.
    pub fn samples_between<'a>(
        &self,
        series: &'a Series,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = (i64, f64)> + 'a {
        let start = self.config.start();
        let first = if from <= start {
            start
        } else {
            start + (from - start + STEP_SECONDS - 1) / STEP_SECONDS * STEP_SECONDS
        };
        let last = self.config.end.min(to.saturating_sub(1));
        (first..=last)
            .step_by(STEP_SECONDS as usize)
            .map(move |t| (t, series.value(t)))
    }

    /// The samples with `at - range_secs <= t <= at` (Prometheus 2.x range selectors include both ends).
    pub fn window(&self, series: &Series, at: i64, range_secs: i64) -> Vec<(i64, f64)> {
        self.window_from(series, at, range_secs, true)
    }

    /// The samples with `t <= at` and `at - range_secs <= t` when `include_start`, else
    /// `at - range_secs < t` (Prometheus 3 and VictoriaMetrics range selectors are left-open).
    pub fn window_from(
        &self,
        series: &Series,
        at: i64,
        range_secs: i64,
        include_start: bool,
    ) -> Vec<(i64, f64)> {
        let start = at - range_secs;
        self.samples(series)
            .filter(|(t, _)| (*t > start || (include_start && *t == start)) && *t <= at)
            .collect()
    }

    /// What `*_over_time(series[range])` evaluated at `at` returns, or `None` without samples.
    pub fn window_stats(&self, series: &Series, at: i64, range_secs: i64) -> Option<WindowStats> {
        self.window_stats_from(series, at, range_secs, true)
    }

    /// [`Dataset::window_stats`] over [`Dataset::window_from`]'s samples.
    pub fn window_stats_from(
        &self,
        series: &Series,
        at: i64,
        range_secs: i64,
        include_start: bool,
    ) -> Option<WindowStats> {
        let values: Vec<f64> = self
            .window_from(series, at, range_secs, include_start)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let avg = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - avg).powi(2)).sum::<f64>() / n;
        Some(WindowStats {
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            avg,
            std_dev: var.sqrt(),
            count: values.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const END: i64 = 1_700_000_000 - 1_700_000_000 % 60;

    #[test]
    fn same_config_same_values() {
        let a = Dataset::new(Config {
            bulk: 3,
            ..Config::new(END)
        });
        let b = Dataset::new(Config {
            bulk: 3,
            ..Config::new(END)
        });
        for (x, y) in a.series().iter().zip(b.series()) {
            for t in a.config().timestamps().step_by(37) {
                assert_eq!(
                    x.value(t).to_bits(),
                    y.value(t).to_bits(),
                    "{} at {t}",
                    x.selector()
                );
            }
        }
    }

    #[test]
    fn another_seed_other_noise() {
        let a = Dataset::new(Config::new(END));
        let b = Dataset::new(Config {
            seed: 1,
            ..Config::new(END)
        });
        let (x, y) = (
            a.series_named("synthetic_noise").unwrap(),
            b.series_named("synthetic_noise").unwrap(),
        );
        assert_ne!(x.value(END), y.value(END));
        let c = (
            a.series_named("synthetic_constant").unwrap(),
            b.series_named("synthetic_constant").unwrap(),
        );
        assert_eq!(c.0.value(END), c.1.value(END));
    }

    #[test]
    fn end_is_rounded_to_the_minute_and_samples_cover_both_ends() {
        let c = Config::new(END + 59);
        assert_eq!(c.end, END);
        let ts: Vec<i64> = c.timestamps().collect();
        assert_eq!(ts.len(), c.samples_per_series());
        assert_eq!(ts.first(), Some(&(END - 3 * 86_400)));
        assert_eq!(ts.last(), Some(&END));
    }

    #[test]
    fn shapes_hold() {
        let d = Dataset::new(Config {
            bulk: 2,
            ..Config::new(END)
        });
        let stats = |name: &str| {
            d.window_stats(d.series_named(name).unwrap(), END, 3 * 86_400)
                .unwrap()
        };
        let constant = stats("synthetic_constant");
        assert_eq!(
            (constant.min, constant.max, constant.std_dev),
            (42.0, 42.0, 0.0)
        );
        let noise = stats("synthetic_noise");
        assert!(
            (noise.avg - 50.0).abs() < 1.0 && (noise.std_dev - 10.0).abs() < 1.0,
            "{noise:?}"
        );
        let mul = stats("synthetic_mul_seasonal");
        assert!(mul.min > 0.0);
        let trend = d.series_named("synthetic_trend").unwrap();
        let first_hour = d
            .window_stats(trend, d.config().start() + 3600, 3600)
            .unwrap();
        let last_hour = d.window_stats(trend, END, 3600).unwrap();
        assert!((last_hour.avg - first_hour.avg - 0.01 * 4260.0).abs() < 2.0);
        let bulk: Vec<_> = d
            .series()
            .iter()
            .filter(|s| s.name() == BULK_NAME)
            .collect();
        assert_eq!(bulk.len(), 2);
        assert_eq!(bulk[1].labels()["shard"], "1");
    }

    #[test]
    fn periods_are_those_of_the_formulas() {
        assert_eq!(Shape::Seasonal.periods_minutes(), [1440.0, 60.0]);
        assert_eq!(Shape::MulSeasonal.periods_minutes(), [1440.0, 60.0]);
        assert!(Shape::Constant.periods_minutes().is_empty());
        assert!(Shape::Noise.periods_minutes().is_empty());
    }

    #[test]
    fn window_includes_both_ends() {
        let d = Dataset::new(Config::new(END));
        let s = d.series_named("synthetic_constant").unwrap();
        assert_eq!(d.window_stats(s, END, 3600).unwrap().count, 61);
        assert!(d.window_stats(s, END + 86_400 * 10, 60).is_none());
    }
}
