use serde_json::{Value, json};
use synthetic::{Config, Dataset, SLA_NAME};

use super::*;

/// Any time: rolling windows do not depend on it.
const AT: i64 = 1_700_000_000;

fn objective(target: f64, days: u32) -> Objective {
    Objective {
        target,
        window: Window::days(days).unwrap(),
    }
}

/// Counts by window length from a table; a length not in it has no value.
fn table(rows: &[(i64, u64, u64)]) -> impl Fn(i64) -> Counts + '_ {
    move |seconds| {
        rows.iter()
            .find(|(s, _, _)| *s == seconds)
            .map(|&(_, good, total)| Counts { good, total })
            .unwrap_or_default()
    }
}

#[test]
fn objectives_parse_and_every_problem_is_listed() {
    let parsed = parse_objective(Some(&json!({"target": 0.995, "window": "28d"}))).unwrap();
    assert_eq!(parsed, Some(objective(0.995, 28)));
    assert_eq!(parse_objective(None), Ok(None));
    assert_eq!(parse_objective(Some(&Value::Null)), Ok(None));
    assert_eq!(
        parse_objective(Some(&json!({"target": 1, "window": "14d", "budget": 3}))).unwrap_err(),
        [
            r#"objective: unknown field "budget" (expected target and window, or target, calendar and time_zone)"#,
            "objective.target must be a number between 0 and 1 (exclusive), got 1",
            r#"objective.window must be one of 7d, 28d, 30d, got "14d""#,
        ]
    );
    assert_eq!(
        parse_objective(Some(&json!({"window": 28}))).unwrap_err(),
        [
            "objective.target is missing",
            "objective.window must be one of 7d, 28d, 30d, got 28",
        ]
    );
    assert_eq!(
        parse_objective(Some(&json!("99%"))).unwrap_err(),
        ["objective must be an object with target and window (or calendar)"]
    );
    for bad in [json!(0), json!(-0.5), json!("0.9"), json!(1.5)] {
        assert!(
            parse_objective(Some(&json!({"target": bad, "window": "7d"}))).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn objectives_round_trip_as_json() {
    let text = r#"{"target":0.995,"window":"30d"}"#;
    let parsed: Objective = serde_json::from_str(text).unwrap();
    assert_eq!(parsed, objective(0.995, 30));
    assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    assert!(serde_json::from_str::<Objective>(r#"{"target":0.9,"window":"1d"}"#).is_err());
}

#[test]
fn the_worked_example_of_the_module_docs() {
    // 28 days at 99.5%: 201.6 minutes of budget; 94 bad minutes in the window, 12 in the
    // last hour (and in the last 5 minutes 3 of 5).
    let rows = [
        (28 * 86_400, 40_321 - 94, 40_321),
        (300, 2, 5),
        (1_800, 25, 30),
        (3_600, 48, 60),
        (7_200, 108, 120),
        (21_600, 360 - 20, 360),
        (86_400, 1_440 - 40, 1_440),
        (259_200, 4_320 - 94, 4_320),
    ];
    let slo = objective(0.995, 28);
    let r = report(&slo, AT, table(&rows));
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
    assert!(close(r.budget.total_minutes, 201.6));
    assert!(close(r.budget.consumed_minutes, 94.0));
    assert!(close(r.budget.remaining_minutes, 107.6));
    assert!(close(r.budget.remaining_ratio, 107.6 / 201.6));
    assert!(close(r.budget.consumed_ratio, 94.0 / 201.6));
    assert!(close(r.compliance.unwrap(), (40_321.0 - 94.0) / 40_321.0));
    // (12/60)/0.005 = 40.
    assert!(close(r.burn_rate("1h").unwrap(), 40.0));
    assert!(close(r.burn_rate("5m").unwrap(), (3.0 / 5.0) / 0.005));
    assert!(close(r.burn_rate("30m").unwrap(), (5.0 / 30.0) / 0.005));
    assert!(close(r.burn_rate("2h").unwrap(), (12.0 / 120.0) / 0.005));
    assert!(close(r.burn_rate("6h").unwrap(), (20.0 / 360.0) / 0.005));
    assert!(close(r.burn_rate("1d").unwrap(), (40.0 / 1440.0) / 0.005));
    assert!(close(r.burn_rate("3d").unwrap(), (94.0 / 4320.0) / 0.005));
    // 107.6 / (40 x 0.005) = 538 minutes.
    assert!(close(r.time_to_exhaustion_seconds.unwrap(), 538.0 * 60.0));
    let firing: Vec<bool> = r.alerts.iter().map(|a| a.firing).collect();
    // Page 14.4x: 40 and 120 > 14.4. Page 6x: 6h is 11.1, 30m 33.3. Ticket 3x: 1d 5.6, 2h 20.
    // Ticket 1x: 3d 4.35, 6h 11.1.
    assert_eq!(firing, [true, true, true, true]);
}

#[test]
fn a_healthy_series_keeps_its_budget_and_alerts_stay_quiet() {
    let slo = objective(0.999, 30);
    let r = report(&slo, AT, |seconds| Counts {
        good: (seconds / 60) as u64,
        total: (seconds / 60) as u64,
    });
    assert_eq!(r.compliance, Some(1.0));
    assert_eq!(r.budget.consumed_minutes, 0.0);
    assert_eq!(r.budget.remaining_ratio, 1.0);
    assert!(r.burn_rates.iter().all(|b| b.rate == Some(0.0)));
    assert!(r.alerts.iter().all(|a| !a.firing));
    assert_eq!(r.time_to_exhaustion_seconds, None, "nothing burns");
}

#[test]
fn each_alert_needs_both_windows_above_its_factor() {
    let slo = objective(0.99, 28);
    // 1h burns at 20x but the last 5 minutes are clean: the burn is over, the page is not sent.
    let rows = [(28 * 86_400, 100, 100), (300, 5, 5), (3_600, 48, 60)];
    let r = report(&slo, AT, table(&rows));
    assert!(r.burn_rate("1h").unwrap() > 14.4 && r.burn_rate("5m") == Some(0.0));
    assert!(!r.alerts[0].firing);
    // No value in a window: no rate, and no alert on it.
    assert_eq!(r.burn_rate("6h"), None);
    assert!(r.alerts.iter().all(|a| !a.firing));
    // Exactly at the factor is not above it (the workbook's `>`): at 50% a half-bad window
    // burns at exactly 1x.
    let half = objective(0.5, 28);
    let at_factor = [
        (28 * 86_400, 50, 100),
        (259_200, 50, 100),
        (21_600, 50, 100),
    ];
    let r = report(&half, AT, table(&at_factor));
    assert_eq!(
        (r.burn_rate("3d"), r.burn_rate("6h")),
        (Some(1.0), Some(1.0))
    );
    assert!(!r.alerts[3].firing);
    let above = [
        (28 * 86_400, 49, 100),
        (259_200, 49, 100),
        (21_600, 49, 100),
    ];
    assert!(report(&half, AT, table(&above)).alerts[3].firing);
}

#[test]
fn an_overspent_budget_is_exhausted_now() {
    let slo = objective(0.9, 7);
    let minutes = 7 * 1440;
    let rows = [(7 * 86_400, minutes / 2, minutes), (3_600, 0, 60)];
    let r = report(&slo, AT, table(&rows));
    assert!(r.budget.remaining_minutes < 0.0 && r.budget.remaining_ratio < 0.0);
    assert!((r.budget.remaining_ratio - (1008.0 - 5040.0) / 1008.0).abs() < 1e-9);
    assert_eq!(r.time_to_exhaustion_seconds, Some(0.0));
}

#[test]
fn nothing_measured_has_no_compliance() {
    let r = report(&objective(0.995, 7), AT, |_| Counts::default());
    assert_eq!(r.compliance, None);
    assert_eq!(r.budget.remaining_ratio, 1.0);
    assert!(r.burn_rates.iter().all(|b| b.rate.is_none()));
}

/// The synthetic SLA series leaves its range in planted runs whose minutes are known: every
/// figure follows from them.
#[test]
fn the_synthetic_history_gives_the_planted_minutes() {
    let data = Dataset::new(Config::new(1_700_000_000));
    let series = data.series_named(SLA_NAME).unwrap();
    let spec = data.sla();
    let range = SlaRange {
        min: spec.range.min,
        max: spec.range.max,
    };
    let samples: Vec<_> = data.samples(series).collect();
    let slo = objective(0.995, 7);
    let planted = |at: i64, seconds: i64| -> u64 {
        spec.runs
            .iter()
            .map(|r| u64::from(r.samples_in_window(at, seconds)))
            .sum()
    };
    // At the end, one hour before, and inside a run.
    for at in [
        data.config().end,
        data.config().end - 3_600,
        spec.runs[3].first + 120,
    ] {
        let r = report(&slo, at, |seconds| counts(&samples, &range, at, seconds));
        let measured = samples.iter().filter(|(t, _)| *t <= at).count() as u64;
        assert_eq!(
            r.measured_minutes, measured,
            "the 7d window holds the whole history"
        );
        assert_eq!(r.budget.consumed_minutes, planted(at, 7 * 86_400) as f64);
        for (name, seconds) in BURN_WINDOWS {
            let burn = r.burn_rates.iter().find(|b| b.window == name).unwrap();
            let bad = planted(at, seconds);
            assert_eq!(burn.bad_minutes, bad, "{name} at {at}");
            let measured = (seconds.min(at - data.config().start()) / 60 + 1) as u64;
            assert_eq!(burn.measured_minutes, measured, "{name}");
            let expected = bad as f64 / measured as f64 / 0.005;
            assert!((burn.rate.unwrap() - expected).abs() < 1e-9, "{name}");
        }
    }
    // At the end: all 94 planted minutes are in the window.
    let end = data.config().end;
    assert_eq!(planted(end, 7 * 86_400), 94);
    let r = report(&slo, end, |seconds| counts(&samples, &range, end, seconds));
    assert!((r.budget.total_minutes - 0.005 * 10_080.0).abs() < 1e-9);
    assert!((r.budget.remaining_minutes - (50.4 - 94.0)).abs() < 1e-9);
    assert_eq!(r.time_to_exhaustion_seconds, Some(0.0));
}

#[test]
fn calendar_objectives_parse_and_every_problem_is_listed() {
    let parsed = parse_objective(Some(
        &json!({"target": 0.99, "calendar": "month", "time_zone": "+02:00"}),
    ))
    .unwrap()
    .unwrap();
    assert_eq!(parsed.window.text(), "month +02:00");
    let text = r#"{"target":0.99,"calendar":"week","time_zone":"UTC"}"#;
    let week: Objective = serde_json::from_str(r#"{"target":0.99,"calendar":"week"}"#).unwrap();
    assert_eq!(
        serde_json::to_string(&week).unwrap(),
        text,
        "UTC by default"
    );
    assert_eq!(serde_json::from_str::<Objective>(text).unwrap(), week);
    let problems = |value: Value| parse_objective(Some(&value)).unwrap_err();
    assert_eq!(
        problems(json!({"target": 0.99, "calendar": "year", "time_zone": "Europe/Pariss"})),
        [
            "objective.calendar must be month or week, got \"year\"",
            "objective.time_zone must be UTC, a fixed offset such as +02:00 or an IANA time zone such as Europe/Paris, got \"Europe/Pariss\"",
        ]
    );
    assert_eq!(
        problems(json!({"target": 0.99, "calendar": "month", "window": "7d"})),
        ["objective has both window and calendar: give one"]
    );
    assert_eq!(
        problems(json!({"target": 0.99, "window": "7d", "time_zone": "UTC"})),
        ["objective.time_zone applies to a calendar window only"]
    );
    for zone in ["+2:00", "02:00", "+15:00", "+02:60", ""] {
        assert!(
            parse_objective(Some(
                &json!({"target": 0.9, "calendar": "week", "time_zone": zone})
            ))
            .is_err(),
            "{zone}"
        );
    }
}

#[test]
fn a_calendar_window_counts_from_the_period_start_and_budgets_the_whole_period() {
    let month = |zone: &str| {
        parse_objective(Some(
            &json!({"target": 0.99, "calendar": "month", "time_zone": zone}),
        ))
        .unwrap()
        .unwrap()
    };
    // 2026-03-15T12:00:00Z: 14.5 days into March, which has 31.
    let mid_march = 1_773_576_000;
    let span = month("UTC").window.span(mid_march);
    assert_eq!(span.elapsed_seconds, mid_march - 1_772_323_200);
    assert_eq!(span.elapsed_seconds, 14 * 86_400 + 12 * 3_600);
    assert_eq!(span.length_seconds, 31 * 86_400);
    // 2026-02-28T23:00:00Z is 01:00 on March 1st at +02:00: one hour into March there.
    let span = month("+02:00").window.span(1_772_319_600);
    assert_eq!(
        span,
        Span {
            elapsed_seconds: 3_600,
            length_seconds: 31 * 86_400
        }
    );
    // In UTC it is the last hour of February (28 days).
    let span = month("UTC").window.span(1_772_319_600);
    assert_eq!(
        span,
        Span {
            elapsed_seconds: 28 * 86_400 - 3_600,
            length_seconds: 28 * 86_400
        }
    );
    // Sunday 2026-03-15 is in the week from Monday 2026-03-09.
    let week = parse_objective(Some(&json!({"target": 0.99, "calendar": "week"})))
        .unwrap()
        .unwrap();
    let span = week.window.span(mid_march);
    assert_eq!(span.elapsed_seconds, mid_march - 1_773_014_400);
    assert_eq!(span.length_seconds, 7 * 86_400);
    // The report counts the elapsed part and budgets the whole month: 1% of 44,640 minutes.
    let slo = month("UTC");
    let elapsed = span_minutes(slo.window.span(mid_march).elapsed_seconds);
    let r = report(&slo, mid_march, |seconds| {
        if seconds == 14 * 86_400 + 12 * 3_600 {
            Counts {
                good: elapsed - 100,
                total: elapsed,
            }
        } else {
            Counts::default()
        }
    });
    assert!((r.budget.total_minutes - 446.4).abs() < 1e-9);
    assert_eq!(r.budget.consumed_minutes, 100.0);
    assert_eq!(r.measured_minutes, elapsed);
    assert_eq!(windows(&slo, mid_march)[0], 14 * 86_400 + 12 * 3_600);
}

fn span_minutes(seconds: i64) -> u64 {
    (seconds / 60 + 1) as u64
}

#[test]
fn iana_calendar_periods_start_at_local_midnight_and_follow_dst() {
    let period = |calendar: &str| {
        parse_objective(Some(
            &json!({"target": 0.999, "calendar": calendar, "time_zone": "Europe/Paris"}),
        ))
        .unwrap()
        .unwrap()
    };
    let month = period("month");
    assert_eq!(month.window.text(), "month Europe/Paris");
    let text = r#"{"target":0.999,"calendar":"month","time_zone":"Europe/Paris"}"#;
    assert_eq!(serde_json::to_string(&month).unwrap(), text);
    assert_eq!(serde_json::from_str::<Objective>(text).unwrap(), month);
    let hour = 3_600;
    // 2026-03-15T12:00:00Z: March in Paris runs from 2026-02-28T23:00Z (+01:00) to
    // 2026-03-31T22:00Z (+02:00), one hour short of 31 days.
    let mid_march = 1_773_576_000;
    let span = month.window.span(mid_march);
    assert_eq!(span.length_seconds, 31 * 86_400 - hour);
    assert_eq!(span.elapsed_seconds, mid_march - 1_772_319_600);
    // October 2026 gains the hour back (2026-10-25).
    let mid_october = 1_791_720_000; // 2026-10-11T12:00:00Z
    assert_eq!(
        month.window.span(mid_october).length_seconds,
        31 * 86_400 + hour
    );
    // 2026-02-28T23:30Z is already March in Paris, but February in UTC and at +00:30.
    let span = month.window.span(1_772_321_400);
    assert_eq!(
        span,
        Span {
            elapsed_seconds: 1_800,
            length_seconds: 31 * 86_400 - hour
        }
    );
    // The week of the spring change (Monday 2026-03-23 to Monday 2026-03-30) has 167 hours;
    // Sunday 2026-03-29T21:30Z is 23:30 local, its last half hour.
    let week = period("week");
    let span = week.window.span(1_774_819_800);
    assert_eq!(
        span,
        Span {
            elapsed_seconds: 167 * hour - 1_800,
            length_seconds: 167 * hour
        }
    );
    // Budgeted over the whole period: 0.1% of March's 44,580 minutes in Paris.
    let r = report(&month, mid_march, |_| Counts::default());
    assert!((r.budget.total_minutes - 44.58).abs() < 1e-9);
}
