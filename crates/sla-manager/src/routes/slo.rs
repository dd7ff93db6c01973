//! `GET /slo`: each objective's compliance, error budget, burn rates and burn-rate alerts.

use axum::{Json, extract::State};

use super::{AppState, AtParam, EvaluationTime, ReadErrors};
use crate::{error::Error, manager::SloItem};

read_route! {
    /// Each SLA of the set that has an `objective`, in the set's order: a timeslice SLO over the
    /// minutes the series is in range. `compliance` is good / measured minutes over the
    /// objective's rolling window; `budget` is `(1 - target) x` the window's minutes, consumed by
    /// bad minutes (in minutes and as shares); `burn_rates` over 5m, 30m, 1h, 2h, 6h, 1d and 3d
    /// are (bad / measured minutes) / `(1 - target)`; `alerts` are the SRE workbook's
    /// multi-window, multi-burn-rate alerts (page 14.4x over 1h and 5m, 6x over 6h and 30m;
    /// ticket 3x over 1d and 2h, 1x over 3d and 6h); `time_to_exhaustion_seconds` is when the
    /// remaining budget is spent at the 1h burn rate (each burn rate also gives its own). An empty
    /// list when no SLA has an objective.
    slo: GET "/slo", tag "slo", 200 "The figures of each objective, in the set's order", list of SloItem
}
