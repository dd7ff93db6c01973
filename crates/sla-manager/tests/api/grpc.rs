//! `GetSLASet` read by a tonic client: one message per SLA metric, with the seasonal periods
//! of its stored metadata.

use common::{
    SeriesId,
    proto::{SlaRequest, SlaSetResponse, sla_service_client::SlaServiceClient},
    record::{Decomposition, Metadata, Seasonality},
};

use crate::helpers::{TestApp, spawn_app};

async fn stream(app: &TestApp) -> Vec<SlaSetResponse> {
    let mut client = SlaServiceClient::connect(format!("http://{}", app.grpc))
        .await
        .expect("the gRPC server answers");
    let mut stream = client
        .get_sla_set(SlaRequest {})
        .await
        .expect("GetSLASet succeeds")
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await.expect("a message") {
        messages.push(message);
    }
    messages
}

#[tokio::test]
async fn the_sla_set_is_streamed_with_seasonal_periods() {
    let app = spawn_app().await;
    assert!(
        stream(&app).await.is_empty(),
        "no set defined: an empty stream"
    );

    app.define_sla_set().await;
    let set = app.sla_set();
    let seasonality = Seasonality {
        period: Some(60.0),
        add: Some(Decomposition {
            period: 60.0,
            error: 0.4,
        }),
        mul: Some(Decomposition {
            period: 1440.0,
            error: 0.6,
        }),
    };
    let metadata = |seasonality| Metadata {
        constant: false,
        samples: 4320,
        step_seconds: 60,
        stationarity: None,
        autocorrelation: None,
        seasonality,
    };
    app.seed_metadata(&set[2].0, metadata(Some(seasonality)))
        .await;
    app.seed_metadata(&set[3].0, metadata(None)).await;

    let messages = stream(&app).await;
    assert_eq!(messages.len(), set.len());
    for (message, (labels, min, max, for_minutes)) in messages.iter().zip(&set) {
        assert_eq!(message.id, SeriesId::of(labels).to_string());
        assert_eq!(message.metric_name, labels["__name__"]);
        assert_eq!(message.labels, labels.clone().into_iter().collect());
        assert_eq!(
            (message.range_min, message.range_max, message.for_minutes),
            (*min, *max, *for_minutes)
        );
    }
    assert_eq!(
        (
            messages[2].seasonality_add_minutes,
            messages[2].seasonality_mul_minutes
        ),
        (Some(60), Some(1440))
    );
    // Metadata without seasonality, or none at all: unset.
    for unknown in [&messages[0], &messages[3]] {
        assert_eq!(
            (
                unknown.seasonality_add_minutes,
                unknown.seasonality_mul_minutes
            ),
            (None, None)
        );
    }
}
