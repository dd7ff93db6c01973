//! The etl binary with bad gRPC TLS settings (`SLA_MANAGER_GRPC_CA`, `SLA_MANAGER_GRPC_CLIENT_*`):
//! start-up stops with an error naming the variable and the path, without a panic and without
//! printing a key. The TLS link itself is tested against a real sla-manager in
//! `crates/sla-manager/tests/api/tls.rs`.

use common::testing::pki::TestPki;

use crate::helpers::run_etl;

/// The etl's exit success and its whole output, run with `env`.
fn etl(env: &[(&str, String)]) -> (bool, String) {
    let (output, text) = run_etl(
        &["--admin-port", "0", "--bind-address", "127.0.0.1"],
        env.iter().map(|(k, v)| (*k, v.as_str())),
    );
    (output.status.success(), text)
}

#[test]
fn bad_grpc_tls_files_stop_the_etl_naming_variable_and_path() {
    let pki = TestPki::new();
    let absent = pki.dir().join("absent-ca.pem");
    let key = std::fs::read_to_string(pki.client_key()).expect("the key");
    let secret = key.lines().nth(1).expect("a base64 line");
    let https = ("SLA_MANAGER_GRPC", "https://127.0.0.1:1".to_owned());
    let cases = [
        (
            vec![
                https.clone(),
                ("SLA_MANAGER_GRPC_CA", absent.display().to_string()),
            ],
            format!(
                "SLA_MANAGER_GRPC_CA={}: cannot read the file",
                absent.display()
            ),
        ),
        (
            vec![
                ("SLA_MANAGER_GRPC", "http://127.0.0.1:1".to_owned()),
                ("SLA_MANAGER_GRPC_CA", pki.ca_cert().display().to_string()),
            ],
            "SLA_MANAGER_GRPC_CA is set but SLA_MANAGER_GRPC=http://127.0.0.1:1/ is plain text"
                .to_owned(),
        ),
        (
            // A key where the certificate belongs.
            vec![
                https.clone(),
                ("SLA_MANAGER_GRPC_CA", pki.ca_cert().display().to_string()),
                (
                    "SLA_MANAGER_GRPC_CLIENT_CERT",
                    pki.client_key().display().to_string(),
                ),
                (
                    "SLA_MANAGER_GRPC_CLIENT_KEY",
                    pki.client_key().display().to_string(),
                ),
            ],
            format!(
                "SLA_MANAGER_GRPC_CLIENT_CERT={}: no PEM certificate in the file",
                pki.client_key().display()
            ),
        ),
    ];
    for (env, expected) in cases {
        let (ok, text) = etl(&env);
        assert!(!ok, "{text}");
        assert!(
            text.contains(&expected),
            "expected {expected:?} in:\n{text}"
        );
        assert!(!text.contains("panicked"), "{text}");
        assert!(!text.contains(secret), "the key is printed:\n{text}");
    }
}
