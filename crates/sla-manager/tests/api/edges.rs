//! The edges of the input: times at the ends of the accepted range, the longest `for`, the
//! OpenAPI schemas that tell a fuzzer those edges, and the token gauge.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Options, spawn_app, spawn_app_with};

#[tokio::test]
async fn times_outside_1970_to_9999_are_400s_naming_at_and_its_range() {
    let app = spawn_app().await;
    app.define_sla_set().await;
    for path in ["/status", "/violations", "/future-violations"] {
        // Each once panicked the service (chrono overflow): the connection dropped, no answer.
        for at in [
            "8210266876799",
            "-8210266876799",
            "253402300800",
            "1e300",
            "-1",
        ] {
            let (status, body) = app.get(&format!("{path}?at={at}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}?at={at}: {body}");
            let error = body["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("`at`") && error.contains("9999-12-31T23:59:59Z"),
                "{path}?at={at}: {error}"
            );
        }
        // Both ends are valid times: an answer (no data there), not an error.
        for at in ["0", "253402300799", "9999-12-31T23:59:59Z"] {
            let (status, body) = app.get(&format!("{path}?at={at}")).await;
            assert_eq!(status, StatusCode::OK, "{path}?at={at}: {body}");
        }
    }
    let telemetry = app.telemetry().await;
    assert!(
        telemetry.contains("http_handler_panics_total 0"),
        "{telemetry}"
    );
}

#[tokio::test]
async fn for_beyond_twelve_hours_is_refused_with_every_other_problem() {
    let app = spawn_app().await;
    let mut body = app.sla_set_body();
    body[0]["for"] = json!(4_294_967_295_u64);
    body[1]["range"] = json!({"min": 5, "max": 1});
    let (status, answer) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let details: Vec<&str> = answer["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(
        details[0].contains("for must be between 1 and 720 minutes, got 4294967295"),
        "{details:?}"
    );
    assert!(details[1].contains("range.min"), "{details:?}");
    assert_eq!(
        app.get("/slaset").await.0,
        StatusCode::NOT_FOUND,
        "nothing stored"
    );

    // The longest `for` is accepted and evaluated within the request timeout.
    let mut body = app.sla_set_body();
    body[0]["for"] = json!(720);
    let (status, answer) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = app.get(&format!("/status?at={}", app.end())).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn the_openapi_document_gives_each_parameter_its_type_and_bounds() {
    let app = spawn_app().await;
    let (status, document) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/status", "/violations", "/future-violations"] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has parameters"));
        let at = parameters
            .iter()
            .find(|p| p["name"] == "at")
            .unwrap_or_else(|| panic!("{path} takes `at`"));
        assert_ne!(at["required"], true, "{path}: `at` is optional");
        let forms = at["schema"]["oneOf"].as_array().expect("two forms");
        assert!(
            forms.iter().any(|f| f["format"] == "date-time"),
            "{path}: {at}"
        );
        assert!(
            forms.iter().any(|f| f["minimum"].as_f64() == Some(0.0)
                && f["maximum"].as_f64() == Some(253_402_300_799.0)),
            "{path}: {at}"
        );
    }
    let input = &document["components"]["schemas"]["SlaInput"]["properties"]["for"];
    assert_eq!(
        (input["minimum"].as_f64(), input["maximum"].as_f64()),
        (Some(1.0), Some(720.0)),
        "{input}"
    );
}

#[tokio::test]
async fn a_missing_api_token_shows_in_a_gauge() {
    let open = spawn_app().await;
    assert!(
        open.telemetry()
            .await
            .contains("\nsla_api_token_configured 0\n"),
        "{}",
        open.telemetry().await
    );
    let guarded = spawn_app_with(Options {
        token: Some("s3cret-token".to_owned()),
        ..Options::default()
    })
    .await;
    let telemetry = guarded.telemetry().await;
    assert!(
        telemetry.contains("\nsla_api_token_configured 1\n"),
        "{telemetry}"
    );
    assert!(!telemetry.contains("s3cret-token"));
}
