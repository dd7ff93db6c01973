use super::*;

#[test]
fn pure_sine_has_its_period() {
    let x: Vec<f64> = (0..600)
        .map(|t| 10.0 + (2.0 * std::f64::consts::PI * t as f64 / 50.0).sin())
        .collect();
    let s = seasonality(&x, &SeasonalityOptions::default()).unwrap();
    assert_eq!(s.period, Some(50));
    assert_eq!(s.mul.map(|m| m.period), Some(50));
    assert!(s.add.unwrap().error < 1e-6);
}

#[test]
fn exact_pattern_decomposes_without_error() {
    let pattern = [1.0, 3.0, 2.0, 5.0];
    let x: Vec<f64> = (0..40).map(|t| 10.0 + pattern[t % 4]).collect();
    assert!(decomposition_error(&x, 4, DecompositionKind::Additive).unwrap() < 1e-20);
    assert!(decomposition_error(&x, 3, DecompositionKind::Additive).unwrap() > 0.1);
    assert!(decomposition_error(&x, 30, DecompositionKind::Additive).is_none());
}

#[test]
fn line_has_no_period_and_short_is_an_error() {
    let x: Vec<f64> = (0..100).map(|t| t as f64).collect();
    assert_eq!(
        seasonality(&x, &SeasonalityOptions::default())
            .unwrap()
            .period,
        None
    );
    assert!(seasonality(&[1.0; 5], &SeasonalityOptions::default()).is_err());
}

#[test]
fn two_periods_are_listed_strongest_first_and_harmonics_are_not() {
    let tau = 2.0 * std::f64::consts::PI;
    let mut seed = 11u64;
    let mut draws = std::iter::repeat_with(move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    });
    let mut noise = |_t: usize| draws.next().unwrap();
    let x: Vec<f64> = (0..1344)
        .map(|t| {
            let t_f = t as f64;
            3.0 * (tau * t_f / 24.0).sin() + 1.5 * (tau * t_f / 168.0).sin() + noise(t)
        })
        .collect();
    let s = seasonality(&x, &SeasonalityOptions::default()).unwrap();
    let periods: Vec<usize> = s.periods.iter().map(|p| p.period).collect();
    assert_eq!(periods.first().copied(), s.period, "{periods:?}");
    // The first is refined by decomposition, the others by the harmonic regression
    // alone (within 1%).
    assert_eq!(periods[0], 24, "{:?}", s.periods);
    assert!(periods[1].abs_diff(168) <= 2, "{:?}", s.periods);
    assert!(s.periods[0].strength >= s.periods[1].strength);
    // A non-sinusoidal shape has harmonics (30, 20): one period.
    let shape: Vec<f64> = (0..600)
        .map(|t| {
            let t_f = t as f64;
            (tau * t_f / 60.0).sin() + 0.6 * (2.0 * tau * t_f / 60.0).sin() + noise(t)
        })
        .collect();
    let s = seasonality(&shape, &SeasonalityOptions::default()).unwrap();
    assert_eq!(s.periods.len(), 1, "{:?}", s.periods);
}
