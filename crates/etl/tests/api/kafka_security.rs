//! `etl init-topic` with the Kafka security settings (common::kafka_security), as far as the
//! Tansu 0.6 broker of the tests can show them:
//!
//! - librdkafka is built with OpenSSL and SCRAM: a SASL_SSL client with SCRAM-SHA-512 is built,
//!   and loads `KAFKA_SSL_CA_LOCATION` (a throwaway CA made with `openssl` here; a missing file is
//!   refused by OpenSSL at client creation, naming `ssl.ca.location`);
//! - SASL asked for without credentials stops before any connection, naming the variables;
//! - the password never reaches the output.
//!
//! Not shown, because Tansu 0.6 cannot: a TLS handshake (its `broker` refuses `--cert` with
//! `--key`, and with `--cert` alone its listener still reads a TLS ClientHello as a Kafka frame)
//! and a SASL login (it answers the SaslHandshake for SCRAM-SHA-256 with error 33, "unsupported
//! mechanism", while listing SCRAM-SHA-256 as supported; `tansu user create` cannot reach a
//! broker started with `--authentication`, and memory storage loses users on restart).

use std::{
    path::Path,
    process::{Command, Output},
};

use common::testing::{BrokerServer, unique_name};

use crate::helpers::run_etl;

const PASSWORD: &str = "correct-horse-battery";

fn init_topic(brokers: &str, security: &[(&str, &str)]) -> (Output, String) {
    let topic = unique_name("etl_security");
    run_etl(
        &[
            "init-topic",
            "--kafka-brokers",
            brokers,
            "--kafka-topic",
            &topic,
        ],
        security.iter().copied(),
    )
}

/// A throwaway CA certificate (PEM) in `dir`, made by openssl.
fn throwaway_ca(dir: &Path) -> String {
    let (key, cert) = (dir.join("ca.key"), dir.join("ca.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=throwaway test CA", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs (scripts/deps.sh installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    cert.display().to_string()
}

/// SASL_SSL with SCRAM-SHA-512 and the CA at `ca`.
fn sasl_ssl(ca: &str) -> [(&'static str, &str); 5] {
    [
        ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        ("KAFKA_SASL_USERNAME", "etl"),
        ("KAFKA_SASL_PASSWORD", PASSWORD),
        ("KAFKA_SSL_CA_LOCATION", ca),
    ]
}

#[tokio::test]
async fn sasl_ssl_clients_load_the_ca_and_never_print_the_password() {
    // Arrange: a plaintext broker (it cannot speak TLS), a CA of the test's own.
    let broker = BrokerServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = throwaway_ca(dir.path());

    // Act and assert: a missing CA file is refused by OpenSSL when the client is built.
    let (missing_ca, text) = init_topic(&broker.brokers(), &sasl_ssl("/nonexistent/ca.pem"));
    assert!(!missing_ca.status.success(), "{text}");
    assert!(text.contains("ssl.ca.location"), "{text}");
    assert!(!text.contains(PASSWORD), "the password was printed: {text}");

    // With the CA, the client is built (TLS and SCRAM are in this librdkafka) and only the
    // connection fails: the broker speaks plaintext, so the TLS handshake never completes.
    let (with_ca, text) = init_topic(&broker.brokers(), &sasl_ssl(&ca));
    assert!(!with_ca.status.success(), "{text}");
    assert!(!text.contains("Client creation error"), "{text}");
    assert!(text.contains("Timed out"), "{text}");
    assert!(!text.contains(PASSWORD), "the password was printed: {text}");

    // The same broker in plaintext: the topic is created (the settings default to PLAINTEXT).
    let (plain, text) = init_topic(&broker.brokers(), &[]);
    assert!(plain.status.success(), "{text}");
}

#[test]
fn sasl_without_credentials_stops_before_connecting() {
    let (output, text) = init_topic("127.0.0.1:1", &[("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")]);
    assert!(!output.status.success());
    assert!(
        text.contains("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        "{text}"
    );
    assert!(
        !text.contains("Timed out"),
        "no connection was tried: {text}"
    );
}
