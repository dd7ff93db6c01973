//! The gRPC link with TLS: the etl's own client (`etl::sla_client`) against a real sla-manager
//! serving TLS with a throwaway CA's certificate (`common::testing::pki`, made by openssl),
//! with and without client certificates; and the start-up errors of bad files.

use std::{ffi::OsString, path::Path, time::Duration};

use common::{grpc_tls::GrpcClientTlsArgs, testing::pki::TestPki};
use etl::sla_client::SlaClient;
use prometheus::{IntCounterVec, Opts};
use sla_manager::{config::Config, startup::App};
use tokio::time::Instant;
use url::Url;

use crate::helpers::{Options, TestApp, spawn_app_with};

fn arg(flag: &str, path: &Path) -> String {
    format!("--{flag}={}", path.display())
}

/// An app serving gRPC over TLS with the server certificate of `pki`, requiring client
/// certificates of its CA when `mutual`.
async fn tls_app(pki: &TestPki, mutual: bool) -> TestApp {
    let mut extra_args = vec![
        arg("grpc-tls-cert", &pki.server_cert()),
        arg("grpc-tls-key", &pki.server_key()),
    ];
    if mutual {
        extra_args.push(arg("grpc-tls-client-ca", &pki.ca_cert()));
    }
    spawn_app_with(Options {
        extra_args,
        ..Options::default()
    })
    .await
}

/// The etl's client of `endpoint` with the settings `tls` (as the etl builds it).
fn etl_client(endpoint: &str, tls: &GrpcClientTlsArgs) -> SlaClient {
    let endpoint: Url = endpoint.parse().expect("a URL");
    let config = tls
        .client_config(&endpoint)
        .expect("valid client TLS settings");
    let retries = IntCounterVec::new(Opts::new("retries_total", "retries"), &["operation"])
        .expect("a counter");
    SlaClient::new(&endpoint, config, retries).expect("a client")
}

fn trusting(ca: &Path) -> GrpcClientTlsArgs {
    GrpcClientTlsArgs {
        sla_manager_grpc_ca: Some(ca.to_path_buf()),
        ..GrpcClientTlsArgs::default()
    }
}

/// What the etl's client read, as the labels of each target in order.
async fn streamed(client: &SlaClient) -> Vec<common::Labels> {
    client
        .sla_set(Instant::now() + Duration::from_secs(20))
        .await
        .expect("the SLA set streams")
        .into_iter()
        .map(|target| target.labels)
        .collect()
}

fn expected(app: &TestApp) -> Vec<common::Labels> {
    app.sla_set()
        .into_iter()
        .map(|(labels, ..)| labels)
        .collect()
}

/// The whole chain of a failed call: the status and every source below it.
async fn failure(client: &SlaClient) -> String {
    let status = client.ping().await.expect_err("the call fails");
    format!("{status:?} / {}", common::admin::error_chain(&status))
}

#[tokio::test]
async fn the_etl_streams_the_sla_set_over_tls() {
    // Arrange
    let pki = TestPki::new();
    let app = tls_app(&pki, false).await;
    app.define_sla_set().await;
    // Act
    let client = etl_client(&format!("https://{}", app.grpc), &trusting(&pki.ca_cert()));
    // Assert
    assert_eq!(streamed(&client).await, expected(&app));
}

#[tokio::test]
async fn a_plain_text_client_cannot_call_the_tls_server() {
    let pki = TestPki::new();
    let app = tls_app(&pki, false).await;
    app.define_sla_set().await;
    let plain = etl_client(
        &format!("http://{}", app.grpc),
        &GrpcClientTlsArgs::default(),
    );
    // The server reads the HTTP/2 preface as a TLS ClientHello and drops the connection.
    let text = failure(&plain).await;
    assert!(text.contains("transport error"), "{text}");
}

#[tokio::test]
async fn a_client_trusting_another_ca_is_refused_with_a_clear_error() {
    let pki = TestPki::new();
    let app = tls_app(&pki, false).await;
    let stranger = etl_client(
        &format!("https://{}", app.grpc),
        &trusting(&pki.other_ca_cert()),
    );
    let text = failure(&stranger).await;
    assert!(
        text.contains("invalid peer certificate: UnknownIssuer"),
        "{text}"
    );
}

#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_of_the_ca() {
    // Arrange
    let pki = TestPki::new();
    let app = tls_app(&pki, true).await;
    app.define_sla_set().await;
    let endpoint = format!("https://{}", app.grpc);
    // Act: without a client certificate, then with the CA's client certificate.
    let anonymous = failure(&etl_client(&endpoint, &trusting(&pki.ca_cert()))).await;
    let known = etl_client(
        &endpoint,
        &GrpcClientTlsArgs {
            sla_manager_grpc_client_cert: Some(pki.client_cert()),
            sla_manager_grpc_client_key: Some(pki.client_key()),
            ..trusting(&pki.ca_cert())
        },
    );
    // Assert
    assert!(
        anonymous.contains("received fatal alert: CertificateRequired"),
        "{anonymous}"
    );
    assert_eq!(streamed(&known).await, expected(&app));
}

#[tokio::test]
async fn the_plain_text_link_still_works() {
    let app = spawn_app_with(Options::default()).await;
    app.define_sla_set().await;
    let client = etl_client(
        &format!("http://{}", app.grpc),
        &GrpcClientTlsArgs::default(),
    );
    assert_eq!(streamed(&client).await, expected(&app));
}

/// `App::build`'s error, as `main` prints it.
async fn start_up_error(args: &[String]) -> String {
    let args: Vec<OsString> = ["sla-manager", "--port=0", "--grpc-port=0", "--admin-port=0"]
        .into_iter()
        .map(String::from)
        .chain(args.iter().cloned())
        .map(OsString::from)
        .collect();
    let config: Config = common::config::try_parse_from(&args, |_| None).expect("parsed");
    let error = App::build(&config).await.expect_err("start-up fails");
    common::admin::error_chain(&error).to_string()
}

#[tokio::test]
async fn bad_tls_files_stop_the_start_naming_the_variable_and_the_path() {
    let pki = TestPki::new();
    let absent = pki.dir().join("absent.key");
    let text = start_up_error(&[
        arg("grpc-tls-cert", &pki.server_cert()),
        arg("grpc-tls-key", &absent),
    ])
    .await;
    assert!(
        text.contains(&format!(
            "SLA_MANAGER_GRPC_TLS_KEY={}: cannot read the file",
            absent.display()
        )),
        "{text}"
    );
    let text = start_up_error(&[arg("grpc-tls-cert", &pki.server_cert())]).await;
    assert!(
        text.contains("SLA_MANAGER_GRPC_TLS_CERT is set without SLA_MANAGER_GRPC_TLS_KEY"),
        "{text}"
    );
    let text = start_up_error(&[
        arg("grpc-tls-cert", &pki.server_cert()),
        arg("grpc-tls-key", &pki.client_key()),
    ])
    .await;
    assert!(text.contains("the gRPC TLS settings are refused"), "{text}");
}
