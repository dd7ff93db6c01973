//! Synthetic histories with planted anomalies, shared by `tests/anomalies.rs` and
//! `benches/anomalies.rs` (included with `#[path]`). Everything is drawn from a seeded
//! generator, so a case is the same on every machine and every run.

#![allow(dead_code, unreachable_pub)]

use analytics::anomalies::ChangeKind;

/// Three days at one-minute steps.
pub const LEN: usize = 4_320;
/// One day at one-minute steps.
pub const DAY: usize = 1_440;

/// SplitMix64 with Box-Muller normals.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    pub fn sign(&mut self) -> f64 {
        if self.uniform() < 0.5 { -1.0 } else { 1.0 }
    }
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A changepoint case: the series, the seasonal period to pass (if any) and what was planted.
pub struct ChangeCase {
    pub name: String,
    pub values: Vec<f64>,
    pub period: Option<usize>,
    pub planted: Vec<(ChangeKind, usize)>,
}

/// Noise of unit scale: white for even seeds, AR(1) with 0.3 for odd ones (scaled to unit
/// variance); a daily cycle of amplitude 3 when `seasonal`; a gentle constant trend.
fn background(rng: &mut Rng, seed: u64, seasonal: bool) -> Vec<f64> {
    let phi: f64 = if seed % 2 == 1 { 0.3 } else { 0.0 };
    let scale = (1.0 - phi * phi).sqrt();
    let phase = rng.between(0.0, std::f64::consts::TAU);
    let slope = rng.between(-0.001, 0.001);
    let level = rng.between(5.0, 50.0);
    let mut e = 0.0;
    (0..LEN)
        .map(|t| {
            e = phi * e + scale * rng.normal();
            let cycle = if seasonal {
                3.0 * (std::f64::consts::TAU * t as f64 / DAY as f64 + phase).sin()
            } else {
                0.0
            };
            level + slope * t as f64 + cycle + e
        })
        .collect()
}

/// A case with one or two planted changes (level shifts of 4 to 8 noise units, or slope
/// changes that move the series 8 to 14 units in 120 samples), at least 600 samples apart and
/// 300 from the ends; seasonal on even seeds.
pub fn change_case(seed: u64) -> ChangeCase {
    let mut rng = Rng::new(seed);
    let seasonal = seed % 4 < 2;
    let mut values = background(&mut rng, seed, seasonal);
    let count = 1 + (rng.uniform() < 0.5) as usize;
    let mut planted: Vec<(ChangeKind, usize)> = Vec::new();
    while planted.len() < count {
        let at = rng.between(300.0, (LEN - 300) as f64) as usize;
        if planted.iter().any(|&(_, p)| p.abs_diff(at) < 600) {
            continue;
        }
        let kind = if rng.uniform() < 0.5 {
            ChangeKind::Level
        } else {
            ChangeKind::Trend
        };
        match kind {
            ChangeKind::Level => {
                let jump = rng.sign() * rng.between(4.0, 8.0);
                for v in &mut values[at..] {
                    *v += jump;
                }
            }
            ChangeKind::Trend => {
                let turn = rng.sign() * rng.between(8.0, 14.0) / 120.0;
                for (t, v) in values[at..].iter_mut().enumerate() {
                    *v += turn * t as f64;
                }
            }
        }
        planted.push((kind, at));
    }
    planted.sort_by_key(|&(_, at)| at);
    ChangeCase {
        name: format!("change_{seed}"),
        values,
        period: seasonal.then_some(DAY),
        planted,
    }
}

/// A clean case: the same background without any change; seasonal on even seeds.
pub fn clean_case(seed: u64) -> ChangeCase {
    let mut rng = Rng::new(seed);
    let seasonal = seed.is_multiple_of(2);
    ChangeCase {
        name: format!("clean_{seed}"),
        values: background(&mut rng, seed / 2, seasonal),
        period: seasonal.then_some(DAY),
        planted: Vec::new(),
    }
}

/// A fleet: the series of one metric name on many hosts, and the planted outlier hosts with
/// the index from which each is outlying.
pub struct Fleet {
    pub name: String,
    pub hosts: Vec<Vec<f64>>,
    pub planted: Vec<(usize, usize)>,
}

/// `hosts` hosts sharing a daily cycle (amplitude 3, on even seeds) and a fleet-wide level,
/// each with its own small offset (0.2 units) and unit white noise; `outliers` of them step
/// 2 to 4 units away from the rest from a time between 300 and 4,000.
pub fn fleet(seed: u64, hosts: usize, outliers: usize) -> Fleet {
    let mut rng = Rng::new(seed.wrapping_mul(7919));
    let seasonal = seed.is_multiple_of(2);
    let phase = rng.between(0.0, std::f64::consts::TAU);
    let level = rng.between(1.0, 20.0);
    let common: Vec<f64> = (0..LEN)
        .map(|t| {
            level
                + if seasonal {
                    3.0 * (std::f64::consts::TAU * t as f64 / DAY as f64 + phase).sin()
                } else {
                    0.0
                }
        })
        .collect();
    let mut series: Vec<Vec<f64>> = (0..hosts)
        .map(|_| {
            let offset = 0.2 * rng.normal();
            common.iter().map(|c| c + offset + rng.normal()).collect()
        })
        .collect();
    let mut planted: Vec<(usize, usize)> = Vec::new();
    while planted.len() < outliers {
        let host = (rng.uniform() * hosts as f64) as usize;
        if planted.iter().any(|&(h, _)| h == host) {
            continue;
        }
        let since = rng.between(300.0, 4_000.0) as usize;
        let step = rng.sign() * rng.between(2.0, 4.0);
        for v in &mut series[host][since..] {
            *v += step;
        }
        planted.push((host, since));
    }
    planted.sort_unstable();
    Fleet {
        name: format!("fleet_{seed}"),
        hosts: series,
        planted,
    }
}
