//! `GET /status`, `GET /violations` and `GET /future-violations`: the SLA set's state now,
//! in the last 12 hours and over the forecast horizon.

use axum::{Json, extract::State};

use super::{AppState, AtParam, EvaluationTime, ReadErrors};
use crate::{
    error::Error,
    manager::{MetricFuture, MetricStatus, MetricViolations},
};

read_route! {
    /// Each SLA's state, a list as in the original: `inactive` (in range), `pending` (out for less
    /// than `for` minutes), `firing` (out for `for` minutes or more) or `unknown` (no value in
    /// Prometheus), with the last three values at a 1-minute step (`last-values`) and the
    /// original's descriptions.
    status: GET "/status", tag "state", 200 "The state of each SLA, in the set's order", list of MetricStatus
}

read_route! {
    /// Each SLA's violations (maximal runs out of range for at least `for` minutes, at a 1-minute
    /// step), a list as in the original: per window (`1h`, `3h`, `12h`) how many overlap it (`n`)
    /// and their minutes inside it (`time`), and the violations of the last 12 hours
    /// (`violation_list`, durations in minutes).
    violations: GET "/violations", tag "state", 200 "The violations of each SLA, in the set's order", list of MetricViolations
}

read_route! {
    /// Each SLA's predicted out-of-range runs after the evaluation time, from its stored
    /// prediction, labelled from its state now, a list as in the original: `violations` holds the
    /// runs and, as its last element, `{avg_value, max_value, min_value}` of the forecast (also
    /// under `summary`), with `prediction_rmse`; or `error: "Prediction not available"` without a
    /// usable stored prediction. A run that continues the one going on now starts when that one
    /// began, and its `duration` counts from there.
    future_violations: GET "/future-violations", tag "state", 200 "The predicted violations of each SLA, in the set's order", list of MetricFuture
}
