//! TLS of the one gRPC link, the etl's calls to the sla-manager (tonic over rustls with ring):
//! the server's certificate and key (`SLA_MANAGER_GRPC_TLS_*`, with an optional CA of client
//! certificates for mutual TLS) and the client's trust (`SLA_MANAGER_GRPC_CA`, or the system's
//! trust store) and optional certificate (`SLA_MANAGER_GRPC_CLIENT_*`).
//!
//! The PEM files are read and checked once, at start-up, so that a missing or malformed file
//! stops the service with an error naming the variable and the path instead of failing every
//! handshake later. Only paths are ever shown: the key's contents are in no error and no log
//! (tonic's `Identity` prints its key in `Debug`, so it never leaves this module's builders).

use std::{fmt, path::PathBuf, time::Duration};

use clap::Args;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, Server, ServerTlsConfig};
use url::Url;

/// How long a TLS handshake may take: a peer that stalls it holds a connection for no longer.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The sla-manager's gRPC TLS: off unless a certificate and its key are given.
#[derive(Debug, Clone, Default, Args)]
pub struct GrpcServerTlsArgs {
    /// PEM certificate chain the gRPC API serves TLS with (with SLA_MANAGER_GRPC_TLS_KEY);
    /// unset, the gRPC API speaks plain text.
    #[arg(long, env = "SLA_MANAGER_GRPC_TLS_CERT")]
    pub grpc_tls_cert: Option<PathBuf>,
    /// PEM private key of SLA_MANAGER_GRPC_TLS_CERT (its contents are never logged).
    #[arg(long, env = "SLA_MANAGER_GRPC_TLS_KEY")]
    pub grpc_tls_key: Option<PathBuf>,
    /// PEM CA certificate(s) of the clients: with it, the gRPC API accepts only clients that
    /// present a certificate signed by one (mutual TLS). Needs SLA_MANAGER_GRPC_TLS_CERT.
    #[arg(long, env = "SLA_MANAGER_GRPC_TLS_CLIENT_CA")]
    pub grpc_tls_client_ca: Option<PathBuf>,
}

impl GrpcServerTlsArgs {
    /// The server's TLS settings, checked (the files read and parsed, the key matching the
    /// certificate); `None` without a certificate.
    ///
    /// # Errors
    /// A file that cannot be read or holds no certificate or key, a key that is not the
    /// certificate's, or a certificate without its key (and the other way round).
    pub fn server_config(&self) -> Result<Option<ServerTlsConfig>, GrpcTlsError> {
        let cert = PemFile::optional("SLA_MANAGER_GRPC_TLS_CERT", self.grpc_tls_cert.as_ref());
        let key = PemFile::optional("SLA_MANAGER_GRPC_TLS_KEY", self.grpc_tls_key.as_ref());
        let client_ca = PemFile::optional(
            "SLA_MANAGER_GRPC_TLS_CLIENT_CA",
            self.grpc_tls_client_ca.as_ref(),
        );
        let (cert, key) = match (cert, key) {
            (None, None) => {
                return match client_ca {
                    None => Ok(None),
                    Some(ca) => Err(GrpcTlsError::Missing {
                        set: ca.variable,
                        missing: "SLA_MANAGER_GRPC_TLS_CERT",
                    }),
                };
            }
            (Some(cert), Some(key)) => (cert, key),
            (Some(set), None) | (None, Some(set)) => {
                return Err(GrpcTlsError::Missing {
                    set: set.variable,
                    missing: if set.variable == "SLA_MANAGER_GRPC_TLS_CERT" {
                        "SLA_MANAGER_GRPC_TLS_KEY"
                    } else {
                        "SLA_MANAGER_GRPC_TLS_CERT"
                    },
                });
            }
        };
        let mut config = ServerTlsConfig::new()
            .identity(identity(&cert, &key)?)
            .timeout(HANDSHAKE_TIMEOUT);
        if let Some(ca) = &client_ca {
            config = config.client_ca_root(certificates(ca)?);
        }
        // tonic builds rustls' configuration here, where a key that is not the certificate's
        // is refused: at start-up rather than at the first connection.
        let _ = Server::builder()
            .tls_config(config.clone())
            .map_err(|source| GrpcTlsError::Refused {
                files: format!("{cert} with {key}"),
                source,
            })?;
        Ok(Some(config))
    }
}

/// The etl's trust in the sla-manager's gRPC TLS, used when `SLA_MANAGER_GRPC` is `https://`.
#[derive(Debug, Clone, Default, Args)]
pub struct GrpcClientTlsArgs {
    /// PEM CA certificate(s) the sla-manager's gRPC certificate is checked against, with an
    /// https:// SLA_MANAGER_GRPC (default: the system's trust store).
    #[arg(long, env = "SLA_MANAGER_GRPC_CA")]
    pub sla_manager_grpc_ca: Option<PathBuf>,
    /// PEM client certificate for an sla-manager that requires one
    /// (SLA_MANAGER_GRPC_TLS_CLIENT_CA), with SLA_MANAGER_GRPC_CLIENT_KEY.
    #[arg(long, env = "SLA_MANAGER_GRPC_CLIENT_CERT")]
    pub sla_manager_grpc_client_cert: Option<PathBuf>,
    /// PEM private key of SLA_MANAGER_GRPC_CLIENT_CERT (its contents are never logged).
    #[arg(long, env = "SLA_MANAGER_GRPC_CLIENT_KEY")]
    pub sla_manager_grpc_client_key: Option<PathBuf>,
}

impl GrpcClientTlsArgs {
    /// The client's TLS settings for `endpoint` (the value of `SLA_MANAGER_GRPC`): `None` for
    /// `http://`, checked settings for `https://`.
    ///
    /// # Errors
    /// Another scheme; a TLS file with `http://` (the operator meant TLS and would get plain
    /// text); a file that cannot be read or holds no certificate or key; a certificate without
    /// its key (and the other way round); no usable system trust store without a CA file.
    pub fn client_config(&self, endpoint: &Url) -> Result<Option<ClientTlsConfig>, GrpcTlsError> {
        let ca = PemFile::optional("SLA_MANAGER_GRPC_CA", self.sla_manager_grpc_ca.as_ref());
        let cert = PemFile::optional(
            "SLA_MANAGER_GRPC_CLIENT_CERT",
            self.sla_manager_grpc_client_cert.as_ref(),
        );
        let key = PemFile::optional(
            "SLA_MANAGER_GRPC_CLIENT_KEY",
            self.sla_manager_grpc_client_key.as_ref(),
        );
        match endpoint.scheme() {
            "https" => {}
            "http" => {
                return match [&ca, &cert, &key].into_iter().flatten().next() {
                    None => Ok(None),
                    Some(file) => Err(GrpcTlsError::TlsWithoutHttps {
                        set: file.variable,
                        endpoint: endpoint.to_string(),
                    }),
                };
            }
            other => {
                return Err(GrpcTlsError::Scheme {
                    scheme: other.to_owned(),
                });
            }
        }
        let mut config = ClientTlsConfig::new().timeout(HANDSHAKE_TIMEOUT);
        config = match &ca {
            Some(ca) => config.ca_certificate(certificates(ca)?),
            None => config.with_native_roots(),
        };
        match (&cert, &key) {
            (None, None) => {}
            (Some(cert), Some(key)) => config = config.identity(identity(cert, key)?),
            (Some(set), None) => {
                return Err(GrpcTlsError::Missing {
                    set: set.variable,
                    missing: "SLA_MANAGER_GRPC_CLIENT_KEY",
                });
            }
            (None, Some(set)) => {
                return Err(GrpcTlsError::Missing {
                    set: set.variable,
                    missing: "SLA_MANAGER_GRPC_CLIENT_CERT",
                });
            }
        }
        // tonic builds rustls' configuration here (trust store, client key): check it now.
        let _ = tonic::transport::Endpoint::from(
            endpoint
                .as_str()
                .parse::<tonic::transport::Uri>()
                .map_err(|_| GrpcTlsError::Endpoint {
                    endpoint: endpoint.to_string(),
                })?,
        )
        .tls_config(config.clone())
        .map_err(|source| GrpcTlsError::Refused {
            files: ca.map_or_else(
                || "the system's trust store (no SLA_MANAGER_GRPC_CA)".to_owned(),
                |ca| ca.to_string(),
            ),
            source,
        })?;
        Ok(Some(config))
    }
}

/// The gRPC TLS settings do not make a server or a client.
#[derive(Debug, thiserror::Error)]
pub enum GrpcTlsError {
    /// A file could not be read.
    #[error("{variable}={path}: cannot read the file")]
    Read {
        /// The variable that named it.
        variable: &'static str,
        /// The path, as given.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file holds no PEM certificate, or a malformed one.
    #[error("{variable}={path}: no PEM certificate in the file")]
    NoCertificate {
        /// The variable that named it.
        variable: &'static str,
        /// The path, as given.
        path: String,
    },
    /// A file holds no PEM private key (PKCS#8, PKCS#1 or SEC1), or a malformed one.
    #[error("{variable}={path}: no PEM private key in the file")]
    NoPrivateKey {
        /// The variable that named it.
        variable: &'static str,
        /// The path, as given.
        path: String,
    },
    /// One half of a pair was given without the other.
    #[error("{set} is set without {missing}")]
    Missing {
        /// The variable that was set.
        set: &'static str,
        /// The one that is needed with it.
        missing: &'static str,
    },
    /// A TLS file was given for a plain-text endpoint.
    #[error("{set} is set but SLA_MANAGER_GRPC={endpoint} is plain text: use https://")]
    TlsWithoutHttps {
        /// The variable that was set.
        set: &'static str,
        /// The endpoint.
        endpoint: String,
    },
    /// The endpoint's scheme is neither `http` nor `https`.
    #[error("SLA_MANAGER_GRPC must be http:// or https://, got {scheme}://")]
    Scheme {
        /// The scheme given.
        scheme: String,
    },
    /// The endpoint is not a URI tonic can connect to.
    #[error("SLA_MANAGER_GRPC={endpoint} is not a valid gRPC endpoint")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
    },
    /// rustls refused the settings (a key that is not the certificate's, no usable trust
    /// store).
    #[error("the gRPC TLS settings are refused: {files}")]
    Refused {
        /// The files involved.
        files: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
}

/// A PEM file and the variable that named it.
#[derive(Debug, Clone)]
struct PemFile {
    variable: &'static str,
    path: PathBuf,
}

impl PemFile {
    fn optional(variable: &'static str, path: Option<&PathBuf>) -> Option<Self> {
        path.map(|path| Self {
            variable,
            path: path.clone(),
        })
    }

    fn path(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> Result<Vec<u8>, GrpcTlsError> {
        std::fs::read(&self.path).map_err(|source| GrpcTlsError::Read {
            variable: self.variable,
            path: self.path(),
            source,
        })
    }
}

impl fmt::Display for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.variable, self.path.display())
    }
}

/// The certificates of `file`: at least one, each well-formed PEM.
fn certificates(file: &PemFile) -> Result<Certificate, GrpcTlsError> {
    let pem = file.read()?;
    let parsed: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
    match parsed {
        Ok(certificates) if !certificates.is_empty() => Ok(Certificate::from_pem(pem)),
        _ => Err(GrpcTlsError::NoCertificate {
            variable: file.variable,
            path: file.path(),
        }),
    }
}

/// The certificate chain of `cert` with the private key of `key`.
fn identity(cert: &PemFile, key: &PemFile) -> Result<Identity, GrpcTlsError> {
    let chain = certificates(cert)?;
    let pem = key.read()?;
    if PrivateKeyDer::from_pem_slice(&pem).is_err() {
        return Err(GrpcTlsError::NoPrivateKey {
            variable: key.variable,
            path: key.path(),
        });
    }
    Ok(Identity::from_pem(chain, pem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pki::TestPki;

    fn server(cert: Option<PathBuf>, key: Option<PathBuf>, ca: Option<PathBuf>) -> String {
        GrpcServerTlsArgs {
            grpc_tls_cert: cert,
            grpc_tls_key: key,
            grpc_tls_client_ca: ca,
        }
        .server_config()
        .map(|c| c.is_some().to_string())
        .unwrap_or_else(|e| crate::admin::error_chain(&e).to_string())
    }

    fn client(endpoint: &str, ca: Option<PathBuf>, cert: Option<PathBuf>) -> String {
        let key = cert.as_ref().map(|c| c.with_extension("key"));
        GrpcClientTlsArgs {
            sla_manager_grpc_ca: ca,
            sla_manager_grpc_client_cert: cert,
            sla_manager_grpc_client_key: key,
        }
        .client_config(&endpoint.parse().unwrap())
        .map(|c| c.is_some().to_string())
        .unwrap_or_else(|e| crate::admin::error_chain(&e).to_string())
    }

    #[test]
    fn a_server_serves_tls_with_a_matching_certificate_and_key() {
        let pki = TestPki::new();
        assert_eq!(server(None, None, None), "false");
        assert_eq!(
            server(Some(pki.server_cert()), Some(pki.server_key()), None),
            "true"
        );
        assert_eq!(
            server(
                Some(pki.server_cert()),
                Some(pki.server_key()),
                Some(pki.ca_cert())
            ),
            "true"
        );
    }

    #[test]
    fn bad_server_files_name_the_variable_and_the_path() {
        let pki = TestPki::new();
        let missing = pki.dir().join("absent.pem");
        let text = server(Some(missing.clone()), Some(pki.server_key()), None);
        assert!(
            text.starts_with(&format!(
                "SLA_MANAGER_GRPC_TLS_CERT={}: cannot read the file",
                missing.display()
            )),
            "{text}"
        );
        // A key where the certificate belongs, a certificate where the key belongs.
        let text = server(Some(pki.server_key()), Some(pki.server_key()), None);
        assert!(
            text.contains("SLA_MANAGER_GRPC_TLS_CERT=") && text.contains("no PEM certificate"),
            "{text}"
        );
        let text = server(Some(pki.server_cert()), Some(pki.server_cert()), None);
        assert!(
            text.contains("SLA_MANAGER_GRPC_TLS_KEY=") && text.contains("no PEM private key"),
            "{text}"
        );
        // Another certificate's key: refused by rustls at start-up, not at the first client.
        let text = server(Some(pki.server_cert()), Some(pki.client_key()), None);
        assert!(text.contains("the gRPC TLS settings are refused"), "{text}");
        let text = server(
            Some(pki.server_cert()),
            Some(pki.server_key()),
            Some(missing),
        );
        assert!(
            text.starts_with("SLA_MANAGER_GRPC_TLS_CLIENT_CA="),
            "{text}"
        );
        assert_eq!(
            server(Some(pki.server_cert()), None, None),
            "SLA_MANAGER_GRPC_TLS_CERT is set without SLA_MANAGER_GRPC_TLS_KEY"
        );
        assert_eq!(
            server(None, None, Some(pki.ca_cert())),
            "SLA_MANAGER_GRPC_TLS_CLIENT_CA is set without SLA_MANAGER_GRPC_TLS_CERT"
        );
    }

    #[test]
    fn a_client_uses_tls_for_https_only() {
        let pki = TestPki::new();
        assert_eq!(client("http://sla:50052", None, None), "false");
        assert_eq!(
            client("https://sla:50052", Some(pki.ca_cert()), None),
            "true"
        );
        assert_eq!(
            client(
                "https://sla:50052",
                Some(pki.ca_cert()),
                Some(pki.client_cert())
            ),
            "true"
        );
        assert_eq!(
            client("http://sla:50052", Some(pki.ca_cert()), None),
            "SLA_MANAGER_GRPC_CA is set but SLA_MANAGER_GRPC=http://sla:50052/ is plain text: use https://"
        );
        assert_eq!(
            client("ftp://sla:50052", None, None),
            "SLA_MANAGER_GRPC must be http:// or https://, got ftp://"
        );
    }

    #[test]
    fn bad_client_files_name_the_variable_and_the_path() {
        let pki = TestPki::new();
        let text = client("https://sla:50052", Some(pki.server_key()), None);
        assert!(
            text.starts_with("SLA_MANAGER_GRPC_CA=") && text.contains("no PEM certificate"),
            "{text}"
        );
        let missing = pki.dir().join("nothing.pem");
        let text = client("https://sla:50052", Some(pki.ca_cert()), Some(missing));
        assert!(
            text.starts_with("SLA_MANAGER_GRPC_CLIENT_CERT=") && text.contains("cannot read"),
            "{text}"
        );
        let half = GrpcClientTlsArgs {
            sla_manager_grpc_client_key: Some(pki.client_key()),
            ..GrpcClientTlsArgs::default()
        };
        let error = half
            .client_config(&"https://sla:50052".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "SLA_MANAGER_GRPC_CLIENT_KEY is set without SLA_MANAGER_GRPC_CLIENT_CERT"
        );
    }

    #[test]
    fn no_error_shows_a_key() {
        let pki = TestPki::new();
        let key = std::fs::read_to_string(pki.server_key()).unwrap();
        let secret = key.lines().nth(1).unwrap();
        for text in [
            server(Some(pki.server_cert()), Some(pki.client_key()), None),
            server(Some(pki.server_key()), Some(pki.server_key()), None),
            format!(
                "{:?}",
                GrpcServerTlsArgs {
                    grpc_tls_cert: Some(pki.server_cert()),
                    grpc_tls_key: Some(pki.server_key()),
                    grpc_tls_client_ca: None,
                }
                .server_config()
            ),
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
