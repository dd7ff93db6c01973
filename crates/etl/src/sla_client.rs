//! The gRPC client of the sla-manager: which series are under an SLA, and their seasonality.

use std::time::Duration;

use common::{
    proto::{SlaRequest, SlaSetResponse, sla_service_client::SlaServiceClient},
    retry::RetryPolicy,
    series::{Labels, SeriesId},
};
use prometheus::IntCounterVec;
use tokio::time::Instant;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use url::Url;

use crate::error::EtlError;

/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest seasonal period a forecast uses, in minutes: one week. A forecast reads two
/// periods and an hour of history at a one-minute step (at most 20,220 points), and the slow
/// loop, over its 3-day lookback, finds periods of at most a day and a half. A longer period
/// (from a corrupt or foreign document: `u32::MAX` minutes would ask for billions of points) is
/// ignored, with a warning, and the series is forecast without seasonality.
pub const MAX_PERIOD_MINUTES: u32 = 7 * 24 * 60;

/// One series under an SLA, as far as forecasting needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaTarget {
    /// The series' full label set.
    pub labels: Labels,
    /// Its id.
    pub id: SeriesId,
    /// Its seasonal period in minutes, when the sla-manager knows one.
    pub period_minutes: Option<u32>,
}

/// Reads only the original system's fields (`metric`, `seasonality`), so the etl works with
/// the original sla-manager as with this one; the id is recomputed from the labels.
impl From<SlaSetResponse> for SlaTarget {
    fn from(message: SlaSetResponse) -> Self {
        let labels: Labels = message.metric.into_iter().collect();
        let id = SeriesId::of(&labels);
        // 0 means "not known" (a period is at least one minute): the additive period first.
        let period_minutes = message
            .seasonality
            .and_then(|s| [s.add, s.mul].into_iter().find(|&m| m > 0))
            .filter(|&minutes| {
                let bounded = minutes <= MAX_PERIOD_MINUTES;
                if !bounded {
                    tracing::warn!(series_id = %id, period_minutes = minutes, bound = MAX_PERIOD_MINUTES, "seasonal period beyond the bound ignored; forecasting without seasonality");
                }
                bounded
            });
        Self {
            labels,
            id,
            period_minutes,
        }
    }
}

/// A client of the sla-manager's gRPC API; it connects lazily.
#[derive(Debug, Clone)]
pub struct SlaClient {
    client: SlaServiceClient<Channel>,
    retries: IntCounterVec,
}

impl SlaClient {
    /// A client of the server at `endpoint` (`http://host:port`, or `https://host:port` with
    /// `tls`, from [`common::grpc_tls::GrpcClientTlsArgs::client_config`]).
    ///
    /// # Errors
    /// `endpoint` is not a valid URI, or rustls refuses `tls`.
    pub fn new(
        endpoint: &Url,
        tls: Option<ClientTlsConfig>,
        retries: IntCounterVec,
    ) -> Result<Self, tonic::transport::Error> {
        // tonic's `from_shared` takes https:// without TLS: never let that happen silently.
        let tls = tls.or_else(|| {
            (endpoint.scheme() == "https").then(|| ClientTlsConfig::new().with_native_roots())
        });
        let mut endpoint =
            Endpoint::from_shared(endpoint.as_str().trim_end_matches('/').to_owned())?;
        if let Some(tls) = tls {
            endpoint = endpoint.tls_config(tls)?;
        }
        let channel = endpoint
            .connect_timeout(Duration::from_secs(2))
            .timeout(CALL_TIMEOUT)
            .connect_lazy();
        Ok(Self {
            client: SlaServiceClient::new(channel),
            retries,
        })
    }

    /// The SLA set, retried with backoff until the server answers or `deadline` passes (the call
    /// is idempotent).
    ///
    /// # Errors
    /// [`EtlError::SlaManager`] with the last failure when `deadline` passed.
    #[tracing::instrument(name = "get_sla_set", skip_all)]
    pub async fn sla_set(&self, deadline: Instant) -> Result<Vec<SlaTarget>, EtlError> {
        let budget = deadline.saturating_duration_since(Instant::now());
        let policy = RetryPolicy {
            max_delay: Duration::from_secs(5),
            ..RetryPolicy::default()
        }
        .with_max_elapsed(Some(budget))
        .counted(self.retries.clone());
        let set = policy
            .run("get_sla_set", || self.call(), |_| true)
            .await
            .map_err(EtlError::SlaManager)?;
        Ok(set.into_iter().map(SlaTarget::from).collect())
    }

    /// One call, without retry: answers when the sla-manager does.
    ///
    /// # Errors
    /// The call's status.
    pub async fn ping(&self) -> Result<(), tonic::Status> {
        self.call().await.map(|_| ())
    }

    async fn call(&self) -> Result<Vec<SlaSetResponse>, tonic::Status> {
        let mut client = self.client.clone();
        let mut stream = client.get_sla_set(SlaRequest {}).await?.into_inner();
        let mut set = Vec::new();
        while let Some(message) = stream.message().await? {
            set.push(message);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::proto::sla_set_response::Seasonality;

    #[test]
    fn targets_take_the_labels_and_the_additive_period_first() {
        let metric: std::collections::HashMap<String, String> =
            [("__name__", "latency"), ("job", "api")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into();
        let message = SlaSetResponse {
            metric: metric.clone(),
            seasonality: Some(Seasonality { add: 60, mul: 1440 }),
            ..Default::default()
        };
        let target = SlaTarget::from(message);
        assert_eq!(target.labels["__name__"], "latency");
        assert_eq!(target.labels["job"], "api");
        assert_eq!(target.id, SeriesId::of(&target.labels));
        assert_eq!(target.period_minutes, Some(60));
        let mul_only = SlaTarget::from(SlaSetResponse {
            metric: metric.clone(),
            seasonality: Some(Seasonality { add: 0, mul: 1440 }),
            ..Default::default()
        });
        assert_eq!(mul_only.period_minutes, Some(1440));
        let bare = SlaTarget::from(SlaSetResponse {
            metric,
            seasonality: Some(Seasonality { add: 0, mul: 0 }),
            ..Default::default()
        });
        assert_eq!(bare.period_minutes, None);
    }

    #[test]
    fn periods_beyond_the_bound_are_ignored() {
        let with = |minutes| {
            SlaTarget::from(SlaSetResponse {
                metric: [("__name__".to_owned(), "up".to_owned())].into(),
                seasonality: Some(Seasonality {
                    add: minutes,
                    mul: 0,
                }),
                ..Default::default()
            })
            .period_minutes
        };
        assert_eq!(with(MAX_PERIOD_MINUTES), Some(MAX_PERIOD_MINUTES));
        assert_eq!(with(MAX_PERIOD_MINUTES + 1), None);
        assert_eq!(with(u32::MAX), None);
    }
}
