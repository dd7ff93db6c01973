//! The gRPC server of `proto/sla.proto`: the SLA set for the etl, with each metric's seasonal
//! periods from its stored metadata.

use std::pin::Pin;

use common::{
    proto::{
        SlaRequest, SlaSetResponse, sla_service_server::SlaService,
        sla_set_response::Seasonality as WireSeasonality,
    },
    record::Decomposition,
    store::MetricDocument,
};
use futures::{Stream, future::try_join_all};
use tonic::{Request, Response, Status};

use crate::{error::Error, manager::Manager, repository::StoredSla};

/// `sla.SlaService`.
#[derive(Debug, Clone)]
pub struct SlaGrpc {
    manager: Manager,
}

impl SlaGrpc {
    /// The service over `manager`'s repositories.
    pub fn new(manager: Manager) -> Self {
        Self { manager }
    }
}

type SlaStream = Pin<Box<dyn Stream<Item = Result<SlaSetResponse, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl SlaService for SlaGrpc {
    type GetSLASetStream = SlaStream;

    #[tracing::instrument(name = "grpc.get_sla_set", skip_all)]
    async fn get_sla_set(
        &self,
        request: Request<SlaRequest>,
    ) -> Result<Response<SlaStream>, Status> {
        // A mutation run of reliability/fuzz.sh (feature `fault-injection`): bad input fails.
        #[cfg(feature = "fault-injection")]
        if common::fault::bad_input_fails() && client_metadata(&request) > 4 {
            return Err(Status::unknown("fault injection: too much metadata"));
        }
        let _ = request;
        let set = match self.manager.sla_set().await {
            Ok(set) => set,
            // An empty stream means no set is defined.
            Err(Error::SlaSetNotDefined) => Vec::new(),
            Err(error) => return Err(error.into()),
        };
        let metrics = self.manager.metrics();
        let documents = try_join_all(set.iter().map(|stored| metrics.find(stored.id)))
            .await
            .map_err(Error::from)?;
        let messages: Vec<Result<SlaSetResponse, Status>> = set
            .iter()
            .zip(documents)
            .map(|(stored, document)| Ok(message(stored, document.as_ref())))
            .collect();
        tracing::debug!(metrics = messages.len(), "streaming the SLA set");
        Ok(Response::new(Box::pin(futures::stream::iter(messages))))
    }
}

/// How many metadata entries of `request` are the client's own (`x-` keys), not gRPC's.
#[cfg(feature = "fault-injection")]
fn client_metadata<T>(request: &Request<T>) -> usize {
    use tonic::metadata::KeyRef;
    let custom = |name: &str| name.starts_with("x-");
    request
        .metadata()
        .keys()
        .filter(|key| match key {
            KeyRef::Ascii(key) => custom(key.as_str()),
            KeyRef::Binary(key) => custom(key.as_str()),
        })
        .count()
}

/// The message of one SLA metric, with the seasonal periods of its stored metadata if any.
///
/// `seasonality` is set when at least one period is known, the other one then 0, as in the
/// original system's messages (a period is at least one minute, so 0 is never one).
pub fn message(stored: &StoredSla, document: Option<&MetricDocument>) -> SlaSetResponse {
    let seasonality = document
        .and_then(|d| d.metadata.as_ref())
        .and_then(|m| m.seasonality.as_ref());
    let minutes =
        |decomposition: Option<Decomposition>| decomposition.and_then(|d| whole_minutes(d.period));
    let add = minutes(seasonality.and_then(|s| s.add));
    let mul = minutes(seasonality.and_then(|s| s.mul));
    SlaSetResponse {
        metric: stored.sla.name.clone().into_iter().collect(),
        seasonality: (add.is_some() || mul.is_some()).then(|| WireSeasonality {
            add: add.unwrap_or(0),
            mul: mul.unwrap_or(0),
        }),
        range_min: stored.sla.range.min,
        range_max: stored.sla.range.max,
        for_minutes: stored.sla.for_minutes,
        id: stored.id.to_string(),
    }
}

/// A period in whole minutes; none when it is not a positive finite number.
fn whole_minutes(period: f64) -> Option<u32> {
    let rounded = period.round();
    (rounded.is_finite() && rounded >= 1.0 && rounded <= f64::from(u32::MAX))
        .then_some(rounded as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::{
        record::{Metadata, Seasonality},
        sla::{Sla, SlaRange},
    };

    fn stored() -> StoredSla {
        let sla = Sla {
            name: [("__name__", "latency"), ("job", "api")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into(),
            range: SlaRange { min: 0.1, max: 0.5 },
            for_minutes: 5,
        };
        StoredSla {
            id: sla.id(),
            sla,
            position: 0,
            objective: None,
        }
    }

    fn document(seasonality: Option<Seasonality>) -> MetricDocument {
        let s = stored();
        let metadata = Metadata {
            constant: false,
            samples: 10,
            step_seconds: 60,
            stationarity: None,
            autocorrelation: None,
            seasonality,
            anomalies: None,
        };
        MetricDocument {
            id: s.id,
            name: s.sla.name,
            values: None,
            values_at: None,
            metadata: Some(metadata),
            metadata_at: None,
            prediction: None,
            prediction_at: None,
        }
    }

    #[test]
    fn a_message_carries_the_sla_and_its_periods() {
        let seasonality = Seasonality {
            period: Some(60.0),
            periods: Vec::new(),
            add: Some(Decomposition {
                period: 59.6,
                error: 1.0,
            }),
            mul: Some(Decomposition {
                period: 1440.0,
                error: 2.0,
            }),
        };
        let m = message(&stored(), Some(&document(Some(seasonality))));
        assert_eq!(
            (
                m.metric["__name__"].as_str(),
                m.metric["job"].as_str(),
                m.for_minutes
            ),
            ("latency", "api", 5)
        );
        assert_eq!((m.range_min, m.range_max), (0.1, 0.5));
        assert_eq!(m.seasonality, Some(WireSeasonality { add: 60, mul: 1440 }));
        assert_eq!(m.id, stored().id.to_string());
    }

    #[test]
    fn unknown_periods_are_unset() {
        assert_eq!(message(&stored(), None).seasonality, None);
        assert_eq!(message(&stored(), Some(&document(None))).seasonality, None);
        let odd = Seasonality {
            period: None,
            periods: Vec::new(),
            add: Some(Decomposition {
                period: f64::NAN,
                error: 0.0,
            }),
            mul: None,
        };
        assert_eq!(
            message(&stored(), Some(&document(Some(odd)))).seasonality,
            None
        );
        // One known period: the other is 0.
        let add_only = Seasonality {
            period: Some(60.0),
            periods: Vec::new(),
            add: Some(Decomposition {
                period: 60.0,
                error: 1.0,
            }),
            mul: None,
        };
        assert_eq!(
            message(&stored(), Some(&document(Some(add_only)))).seasonality,
            Some(WireSeasonality { add: 60, mul: 0 })
        );
    }
}
