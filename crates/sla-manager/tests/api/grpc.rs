//! `GetSLASet` read by tonic clients: the project's own (`proto/sla.proto`), one generated from
//! the original system's `.proto` (`tests/fixtures/original/sla.proto`, verbatim), and one that
//! pads its request to check the server's size limit.

use std::collections::HashMap;

use common::{
    SeriesId,
    proto::{SlaSetResponse, sla_set_response::Seasonality as WireSeasonality},
    record::{Decomposition, Metadata, Seasonality},
};
use futures::TryStreamExt;
use sla_manager::startup::GRPC_MAX_REQUEST_BYTES;

use crate::helpers::{TestApp, spawn_app};

/// The client generated from the original system's `.proto`.
#[allow(unreachable_pub, missing_docs, clippy::all)]
mod original {
    include!(concat!(env!("OUT_DIR"), "/original/sla.rs"));
}

/// A client whose request carries padding (`tests/fixtures/padded.proto`).
#[allow(unreachable_pub, missing_docs, clippy::all)]
mod padded {
    include!(concat!(env!("OUT_DIR"), "/padded/sla.rs"));
}

pub(crate) async fn stream(app: &TestApp) -> Vec<SlaSetResponse> {
    let stream = app.sla_set_stream().await.expect("GetSLASet succeeds");
    stream.try_collect().await.expect("a message")
}

async fn original_stream(app: &TestApp) -> Vec<original::SlaSetResponse> {
    let mut client =
        original::sla_service_client::SlaServiceClient::connect(format!("http://{}", app.grpc))
            .await
            .expect("the gRPC server answers");
    let stream = client
        .get_sla_set(original::SlaRequest {})
        .await
        .expect("GetSLASet succeeds for the original client")
        .into_inner();
    stream.try_collect().await.expect("a message")
}

fn metadata(seasonality: Option<Seasonality>) -> Metadata {
    Metadata {
        constant: false,
        samples: 4320,
        step_seconds: 60,
        stationarity: None,
        autocorrelation: None,
        seasonality,
        anomalies: None,
    }
}

fn decomposition(period: f64) -> Option<Decomposition> {
    Some(Decomposition { period, error: 0.5 })
}

/// Seeds the metadata of set[2] (both periods), set[4] (only the additive one) and set[3]
/// (no seasonality); the others have none stored.
async fn seed_periods(app: &TestApp) {
    let set = app.sla_set();
    let both = Seasonality {
        period: Some(60.0),
        periods: Vec::new(),
        add: decomposition(60.0),
        mul: decomposition(1440.0),
    };
    let add_only = Seasonality {
        period: Some(30.0),
        periods: Vec::new(),
        add: decomposition(30.0),
        mul: None,
    };
    app.seed_metadata(&set[2].0, metadata(Some(both))).await;
    app.seed_metadata(&set[4].0, metadata(Some(add_only))).await;
    app.seed_metadata(&set[3].0, metadata(None)).await;
}

#[tokio::test]
async fn the_sla_set_is_streamed_with_seasonal_periods() {
    let app = spawn_app().await;
    assert!(
        stream(&app).await.is_empty(),
        "no set defined: an empty stream"
    );

    app.define_sla_set().await;
    seed_periods(&app).await;
    let set = app.sla_set();
    let messages = stream(&app).await;
    assert_eq!(messages.len(), set.len());
    for (message, (labels, min, max, for_minutes)) in messages.iter().zip(&set) {
        assert_eq!(message.id, SeriesId::of(labels).to_string());
        let expected: HashMap<String, String> = labels.clone().into_iter().collect();
        assert_eq!(message.metric, expected);
        assert_eq!(
            (message.range_min, message.range_max, message.for_minutes),
            (*min, *max, *for_minutes)
        );
    }
    assert_eq!(
        messages[2].seasonality,
        Some(WireSeasonality { add: 60, mul: 1440 })
    );
    assert_eq!(
        messages[4].seasonality,
        Some(WireSeasonality { add: 30, mul: 0 })
    );
    // Metadata without seasonality, or none at all: unset.
    assert_eq!(
        (messages[0].seasonality, messages[3].seasonality),
        (None, None)
    );
}

#[tokio::test]
async fn a_client_generated_from_the_original_proto_reads_the_stream() {
    let app = spawn_app().await;
    assert!(original_stream(&app).await.is_empty());

    app.define_sla_set().await;
    seed_periods(&app).await;
    let set = app.sla_set();
    let messages = original_stream(&app).await;
    assert_eq!(messages.len(), set.len());
    for (message, (labels, ..)) in messages.iter().zip(&set) {
        let expected: HashMap<String, String> = labels.clone().into_iter().collect();
        assert_eq!(message.metric, expected, "labels, __name__ included");
        assert!(message.metric.contains_key("__name__"));
    }
    let periods = |i: usize| messages[i].seasonality.map(|s| (s.add, s.mul));
    assert_eq!(periods(2), Some((60, 1440)));
    assert_eq!(periods(4), Some((30, 0)));
    assert_eq!((periods(0), periods(3)), (None, None));
}

#[tokio::test]
async fn an_oversized_request_is_refused_and_a_small_one_served() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    let client =
        padded::sla_service_client::SlaServiceClient::connect(format!("http://{}", app.grpc))
            .await
            .expect("the gRPC server answers");
    let call = |padding: usize| {
        let mut client = client.clone();
        async move {
            let mut stream = client
                .get_sla_set(padded::PaddedRequest {
                    padding: vec![0; padding],
                })
                .await?
                .into_inner();
            let mut n = 0;
            while stream.message().await?.is_some() {
                n += 1;
            }
            Ok::<_, tonic::Status>(n)
        }
    };
    // Unknown fields are skipped: a small padded request is a normal call.
    assert_eq!(call(16).await.expect("a small request is served"), 5);
    let refused = call(GRPC_MAX_REQUEST_BYTES + 1)
        .await
        .expect_err("an oversized request is refused");
    assert_eq!(refused.code(), tonic::Code::OutOfRange, "{refused:?}");
    // The server is still there.
    assert_eq!(call(0).await.expect("served after a refusal"), 5);
}
