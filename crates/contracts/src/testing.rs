//! Values for tests (feature `test-support`, and this crate's own tests): one of each contract
//! type with every field present, so that a test that encodes, stores or serves one sees all of
//! its fields.

use crate::record::{Decomposition, Metadata, Seasonality, Stationarity};

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
