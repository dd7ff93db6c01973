#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod aggregates;
pub mod anomalies;
pub mod autocorrelation;
mod error;
pub mod forecast;
pub mod gaps;
pub mod metadata;
mod optim;
pub mod seasonality;
pub mod special;
pub mod stationarity;

pub use aggregates::{Aggregates, aggregates};
pub use autocorrelation::{Acf, AcfOptions, acf};
pub use error::Error;
pub use forecast::{
    FittedHoltWinters, Forecast, ForecastOptions, HoltWinters, Model, Score, Selection, forecast,
    select,
};
pub use gaps::{Filled, fill_gaps};
pub use metadata::{Metadata, MetadataOptions, Prediction, metadata, predict, predict_with};
pub use seasonality::{Decomposition, Seasonality, SeasonalityOptions, seasonality};
pub use stationarity::{Adf, AdfOptions, adfuller};
