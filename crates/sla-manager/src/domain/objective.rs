//! An SLA's objective as the set gives it: a target and a rolling window (`"window": "28d"`)
//! or a calendar period (`"calendar": "month" | "week"`, with a `time_zone`), and the span of
//! minutes it covers at a given time.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{STEP_SECONDS, zone::Zone};

/// The rolling windows an objective may have, in days.
pub const WINDOW_DAYS: [u32; 3] = [7, 28, 30];

/// The fields of an objective.
const FIELDS: [&str; 4] = ["target", "window", "calendar", "time_zone"];

/// An objective: the share of good minutes to keep over its window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ObjectiveWire", into = "ObjectiveWire")]
pub struct Objective {
    /// The share of good minutes to keep, strictly between 0 and 1 (`0.995`).
    pub target: f64,
    /// Its window.
    pub window: Window,
}

/// The window of an objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last `days` days.
    Rolling {
        /// One of [`WINDOW_DAYS`].
        days: u32,
    },
    /// The current calendar month or week (from Monday) in a time zone.
    Calendar {
        /// Month or week.
        period: CalendarPeriod,
        /// The time zone: UTC, a fixed offset or an IANA zone.
        zone: Zone,
    },
}

/// A calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarPeriod {
    /// From the 1st, 00:00.
    Month,
    /// From Monday, 00:00 (ISO 8601).
    Week,
}

/// The span an objective covers at a time: the minutes `start <= t <= at` count, and the
/// budget is over `length_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Seconds from the first counted minute to `at` (at least 1, so that `at` counts).
    pub elapsed_seconds: i64,
    /// The whole window's length: the rolling window, or the whole calendar period.
    pub length_seconds: i64,
}

/// An objective as JSON has it, for the OpenAPI document and serde.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveWire {
    /// The share of good minutes to keep, strictly between 0 and 1.
    #[schema(example = 0.995)]
    pub target: f64,
    /// A rolling window: `7d`, `28d` or `30d` (or `calendar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "28d")]
    pub window: Option<String>,
    /// A calendar period: `month` or `week` (or `window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// With `calendar`: `UTC` (the default), a fixed offset such as `+02:00`, or an IANA time
    /// zone such as `Europe/Paris` (its periods start at local midnight, DST included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl TryFrom<ObjectiveWire> for Objective {
    type Error = String;

    fn try_from(wire: ObjectiveWire) -> Result<Self, String> {
        let value = serde_json::to_value(&wire).map_err(|e| e.to_string())?;
        parse_objective(Some(&value))
            .map_err(|problems| problems.join("; "))?
            .ok_or_else(|| "objective is missing".to_owned())
    }
}

impl From<Objective> for ObjectiveWire {
    fn from(objective: Objective) -> Self {
        let (window, calendar, time_zone) = match objective.window {
            Window::Rolling { days } => (Some(format!("{days}d")), None, None),
            Window::Calendar { period, zone } => {
                (None, Some(period.name().to_owned()), Some(zone.text()))
            }
        };
        Self {
            target: objective.target,
            window,
            calendar,
            time_zone,
        }
    }
}

impl CalendarPeriod {
    fn name(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Week => "week",
        }
    }
}

impl Window {
    /// The rolling window of `days` days, when it is one of [`WINDOW_DAYS`].
    pub fn days(days: u32) -> Option<Self> {
        WINDOW_DAYS
            .contains(&days)
            .then_some(Self::Rolling { days })
    }

    /// How the window reads: `28d`, `month UTC`, `week +02:00`, `month Europe/Paris`.
    pub fn text(self) -> String {
        match self {
            Self::Rolling { days } => format!("{days}d"),
            Self::Calendar { period, zone } => format!("{} {}", period.name(), zone.text()),
        }
    }

    /// The span the window covers at `at` (unix seconds).
    pub fn span(self, at: i64) -> Span {
        match self {
            Self::Rolling { days } => {
                let seconds = i64::from(days) * 86_400;
                Span {
                    elapsed_seconds: seconds,
                    length_seconds: seconds,
                }
            }
            Self::Calendar { period, zone } => {
                let (start, end) = calendar_bounds(period, zone, at).unwrap_or((at, at + 1));
                Span {
                    elapsed_seconds: (at - start).max(1),
                    length_seconds: (end - start).max(STEP_SECONDS),
                }
            }
        }
    }
}

/// The unix seconds of the start of the period holding `at` and of the next one's start, each
/// the first instant of its day in `zone` (so a period with a DST change is an hour shorter
/// or longer).
pub(super) fn calendar_bounds(period: CalendarPeriod, zone: Zone, at: i64) -> Option<(i64, i64)> {
    let date = zone.date(at)?;
    let (first, next) = match period {
        CalendarPeriod::Month => {
            let first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?;
            let next = if date.month() == 12 {
                NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)?
            };
            (first, next)
        }
        CalendarPeriod::Week => {
            let first = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            (first, first + Duration::days(7))
        }
    };
    Some((zone.start_of_day(first)?, zone.start_of_day(next)?))
}

impl Objective {
    /// The share of minutes that may be bad.
    pub fn allowed_bad(&self) -> f64 {
        1.0 - self.target
    }
}

/// Reads the `objective` of an SLA entry: absent or `null` is none; every problem is listed.
pub fn parse_objective(value: Option<&Value>) -> Result<Option<Objective>, Vec<String>> {
    let value = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(value) => value,
    };
    let Some(fields) = value.as_object() else {
        return Err(vec![
            "objective must be an object with target and window (or calendar)".to_owned(),
        ]);
    };
    let mut problems: Vec<String> = fields
        .keys()
        .filter(|key| !FIELDS.contains(&key.as_str()))
        .map(|key| {
            format!(
                "objective: unknown field {key:?} (expected target and window, or target, calendar and time_zone)"
            )
        })
        .collect();
    let target = match fields.get("target") {
        None | Some(Value::Null) => Err("objective.target is missing".to_owned()),
        Some(target) => target
            .as_f64()
            .filter(|t| *t > 0.0 && *t < 1.0)
            .ok_or_else(|| {
                format!(
                    "objective.target must be a number between 0 and 1 (exclusive), got {target}"
                )
            }),
    };
    let given = |key: &str| fields.get(key).filter(|v| !v.is_null());
    let window = match (given("window"), given("calendar")) {
        (Some(_), Some(_)) => Err("objective has both window and calendar: give one".to_owned()),
        (None, None) => Err("objective.window is missing".to_owned()),
        (Some(window), None) => {
            if given("time_zone").is_some() {
                problems.push("objective.time_zone applies to a calendar window only".to_owned());
            }
            window
                .as_str()
                .and_then(|text| text.strip_suffix('d'))
                .and_then(|days| days.parse().ok())
                .and_then(Window::days)
                .ok_or_else(|| {
                    format!("objective.window must be one of 7d, 28d, 30d, got {window}")
                })
        }
        (None, Some(calendar)) => {
            let period = match calendar.as_str() {
                Some("month") => Ok(CalendarPeriod::Month),
                Some("week") => Ok(CalendarPeriod::Week),
                _ => Err(format!(
                    "objective.calendar must be month or week, got {calendar}"
                )),
            };
            let zone = match given("time_zone") {
                None => Ok(Zone::utc()),
                Some(zone) => zone.as_str().and_then(Zone::parse).ok_or_else(|| {
                    format!(
                        "objective.time_zone must be UTC, a fixed offset such as +02:00 or an IANA time zone such as Europe/Paris, got {zone}"
                    )
                }),
            };
            match (period, zone) {
                (Ok(period), Ok(zone)) => Ok(Window::Calendar { period, zone }),
                (Err(problem), Ok(_)) | (Ok(_), Err(problem)) => Err(problem),
                (Err(first), Err(second)) => {
                    problems.push(first);
                    Err(second)
                }
            }
        }
    };
    match (target, window) {
        (Ok(target), Ok(window)) if problems.is_empty() => Ok(Some(Objective { target, window })),
        (target, window) => {
            problems.extend([target.err(), window.err()].into_iter().flatten());
            Err(problems)
        }
    }
}
