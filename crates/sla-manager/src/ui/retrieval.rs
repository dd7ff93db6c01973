//! A client of the retrieval service's REST API, for the series pages: the stored aggregates
//! and statistics of one series.

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{
    SeriesId,
    record::{Metadata, Windows},
};
use serde::{Deserialize, de::DeserializeOwned};
use url::Url;

/// A call to retrieval that failed.
#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    /// No answer, or not the JSON expected.
    #[error("retrieval at {url} did not answer")]
    Unreachable {
        /// What was asked.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// An answer other than 200 or 404.
    #[error("retrieval at {url} answered {status}")]
    Status {
        /// What was asked.
        url: String,
        /// Its status.
        status: u16,
    },
}

/// The results stored for one series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesResults {
    /// The 1h/3h/12h aggregates and when they were computed.
    pub values: Option<(Windows, Option<DateTime<Utc>>)>,
    /// The statistics and when they were computed.
    pub metadata: Option<(Metadata, Option<DateTime<Utc>>)>,
}

#[derive(Deserialize)]
struct ValuesBody {
    values: Windows,
    computed_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct MetadataBody {
    metadata: Metadata,
    computed_at: Option<DateTime<Utc>>,
}

/// Retrieval's base URL and an HTTP client.
#[derive(Debug, Clone)]
pub struct RetrievalClient {
    base: Url,
    http: reqwest::Client,
}

impl RetrievalClient {
    /// A client of the retrieval service at `base`, each call limited to `timeout`.
    pub fn new(base: Url, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self { base, http })
    }

    /// Where retrieval is.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Both results of `id` (each absent when retrieval has none yet).
    pub async fn series(&self, id: SeriesId) -> Result<SeriesResults, RetrievalError> {
        let (values_path, metadata_path) = (
            format!("metrics/{id}/values"),
            format!("metrics/{id}/metadata"),
        );
        let (values, metadata) = tokio::try_join!(
            self.get::<ValuesBody>(&values_path),
            self.get::<MetadataBody>(&metadata_path),
        )?;
        Ok(SeriesResults {
            values: values.map(|b| (b.values, b.computed_at)),
            metadata: metadata.map(|b| (b.metadata, b.computed_at)),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, RetrievalError> {
        let url = format!("{}/{path}", self.base.as_str().trim_end_matches('/'));
        let unreachable = |source| RetrievalError::Unreachable {
            url: url.clone(),
            source,
        };
        let response = self.http.get(&url).send().await.map_err(unreachable)?;
        match response.status().as_u16() {
            200 => response.json().await.map(Some).map_err(unreachable),
            404 => Ok(None),
            status => Err(RetrievalError::Status {
                url: url.clone(),
                status,
            }),
        }
    }
}
