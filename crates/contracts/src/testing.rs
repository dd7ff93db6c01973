//! Values for tests (feature `test-support`, and this crate's own tests): one of each contract
//! type with every field present, so that a test that encodes, stores or serves one sees all of
//! its fields.

use chrono::{DateTime, TimeDelta, Utc};

use crate::record::{
    CandidateScore, Decomposition, Metadata, PredictedPoint, Prediction, Seasonality, Stationarity,
};

/// Metadata with every statistic present (a non-constant, seasonal series), for tests that
/// encode, store or serve one.
pub fn full_metadata() -> Metadata {
    Metadata {
        constant: false,
        samples: 4320,
        step_seconds: 60,
        stationarity: Some(Stationarity {
            stationary: true,
            p_value: 0.001,
            adf_statistic: -4.2,
            used_lag: 3,
        }),
        autocorrelation: Some([("0".to_owned(), 1.0), ("1".to_owned(), 0.8)].into()),
        seasonality: Some(Seasonality {
            period: Some(60.0),
            periods: Vec::new(),
            add: Some(Decomposition {
                period: 60.0,
                error: 0.5,
            }),
            mul: None,
        }),
    }
}

/// A prediction with every field present, computed at `at`: ten points one minute apart after
/// it (value 1, bounds 0.5 and 1.5, so `min`, `max` and `avg` agree with them) and one
/// candidate with its held-out RMSE.
pub fn full_prediction(at: DateTime<Utc>) -> Prediction {
    let values = (1..=10)
        .map(|minutes| PredictedPoint {
            timestamp: at + TimeDelta::minutes(minutes),
            value: 1.0,
            lower: 0.5,
            upper: 1.5,
        })
        .collect();
    Prediction {
        model: "holt_winters_additive".to_owned(),
        rmse: 0.2,
        min: 1.0,
        max: 1.0,
        avg: 1.0,
        horizon_minutes: 10,
        step_seconds: 60,
        values,
        candidates: vec![CandidateScore {
            model: "holt_winters_additive".to_owned(),
            holdout_rmse: 0.25,
        }],
    }
}
