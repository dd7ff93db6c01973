//! How the etl, storage and `etl init-topic` authenticate to Kafka and encrypt the connection:
//! one definition of the `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*` and `KAFKA_SSL_CA_LOCATION`
//! settings, flattened into [`crate::config::KafkaArgs`], turned into librdkafka properties by
//! [`crate::config::KafkaArgs::client_properties`] (the one place every Kafka client is configured
//! from) and checked at start-up by [`KafkaSecurityArgs::validate`].
//!
//! SASL mechanisms are librdkafka's built-in ones (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), which its
//! `ssl` feature brings; GSSAPI (Kerberos) and OAUTHBEARER would need more and are not offered.

use std::{fmt, path::PathBuf};

use clap::{Args, ValueEnum};

use crate::config::SecretToken;

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecurityProtocol {
    /// No TLS, no authentication (the local stack).
    #[value(name = "PLAINTEXT", alias = "plaintext")]
    Plaintext,
    /// TLS, no SASL.
    #[value(name = "SSL", alias = "ssl")]
    Ssl,
    /// SASL without TLS: the password crosses the network in the clear with PLAIN.
    #[value(name = "SASL_PLAINTEXT", alias = "sasl_plaintext")]
    SaslPlaintext,
    /// SASL over TLS: what production runs.
    #[value(name = "SASL_SSL", alias = "sasl_ssl")]
    SaslSsl,
}

impl SecurityProtocol {
    fn property(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

/// `sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    /// User and password as they are (use over TLS only).
    #[value(name = "PLAIN", alias = "plain")]
    Plain,
    /// Salted challenge-response, SHA-256.
    #[value(name = "SCRAM-SHA-256", alias = "scram-sha-256")]
    ScramSha256,
    /// Salted challenge-response, SHA-512.
    #[value(name = "SCRAM-SHA-512", alias = "scram-sha-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn property(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// The security settings of every Kafka client.
#[derive(Clone, Args)]
pub struct KafkaSecurityArgs {
    /// How clients talk to the brokers: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    #[arg(long, env = "KAFKA_SECURITY_PROTOCOL", value_enum, default_value_t = SecurityProtocol::Plaintext)]
    pub kafka_security_protocol: SecurityProtocol,
    /// SASL mechanism with SASL_*: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(long, env = "KAFKA_SASL_MECHANISM", value_enum, default_value_t = SaslMechanism::ScramSha512)]
    pub kafka_sasl_mechanism: SaslMechanism,
    /// SASL user name (required with SASL_*).
    #[arg(long, env = "KAFKA_SASL_USERNAME")]
    pub kafka_sasl_username: Option<String>,
    /// SASL password (required with SASL_*); never logged.
    #[arg(long, env = "KAFKA_SASL_PASSWORD", hide_env_values = true)]
    pub kafka_sasl_password: Option<SecretToken>,
    /// PEM file of the CA that signed the brokers' certificates, with SSL or SASL_SSL
    /// (default: the system's trust store).
    #[arg(long, env = "KAFKA_SSL_CA_LOCATION")]
    pub kafka_ssl_ca_location: Option<PathBuf>,
}

/// The settings do not make a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KafkaSecurityError {
    /// A SASL protocol without a user name or password.
    #[error(
        "KAFKA_SECURITY_PROTOCOL={protocol:?} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
    )]
    MissingCredentials {
        /// The protocol asked for.
        protocol: SecurityProtocol,
    },
}

impl KafkaSecurityArgs {
    /// Whether the settings make a client: a SASL protocol needs a user name and a password.
    /// The services check it at start-up, before any client is built.
    ///
    /// # Errors
    /// A SASL protocol without both.
    pub fn validate(&self) -> Result<(), KafkaSecurityError> {
        let protocol = self.kafka_security_protocol;
        if protocol.uses_sasl()
            && (self.kafka_sasl_username.is_none() || self.kafka_sasl_password.is_none())
        {
            return Err(KafkaSecurityError::MissingCredentials { protocol });
        }
        Ok(())
    }

    /// The librdkafka properties these settings add to a client's (`security.protocol` only
    /// for PLAINTEXT).
    pub fn client_properties(&self) -> Vec<(&'static str, String)> {
        let protocol = self.kafka_security_protocol;
        let mut properties = vec![("security.protocol", protocol.property().to_owned())];
        if protocol.uses_sasl() {
            properties.push((
                "sasl.mechanism",
                self.kafka_sasl_mechanism.property().to_owned(),
            ));
            if let Some(username) = &self.kafka_sasl_username {
                properties.push(("sasl.username", username.clone()));
            }
            if let Some(password) = &self.kafka_sasl_password {
                properties.push(("sasl.password", password.expose().to_owned()));
            }
        }
        if matches!(protocol, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
            && let Some(ca) = &self.kafka_ssl_ca_location
        {
            properties.push(("ssl.ca.location", ca.display().to_string()));
        }
        properties
    }
}

impl fmt::Debug for KafkaSecurityArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSecurityArgs")
            .field("kafka_security_protocol", &self.kafka_security_protocol)
            .field("kafka_sasl_mechanism", &self.kafka_sasl_mechanism)
            .field("kafka_sasl_username", &self.kafka_sasl_username)
            .field(
                "kafka_sasl_password",
                &self.kafka_sasl_password.as_ref().map(|_| "***"),
            )
            .field("kafka_ssl_ca_location", &self.kafka_ssl_ca_location)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Example {
        #[command(flatten)]
        security: KafkaSecurityArgs,
    }

    fn parse(args: &[&str]) -> Result<KafkaSecurityArgs, clap::Error> {
        Example::try_parse_from(std::iter::once("example").chain(args.iter().copied()))
            .map(|e| e.security)
    }

    #[test]
    fn plaintext_by_default() {
        let security = parse(&[]).unwrap();
        assert_eq!(security.validate(), Ok(()));
        assert_eq!(
            security.client_properties(),
            [("security.protocol", "plaintext".to_owned())]
        );
    }

    #[test]
    fn sasl_ssl_sets_mechanism_credentials_and_ca() {
        let security = parse(&[
            "--kafka-security-protocol=SASL_SSL",
            "--kafka-sasl-mechanism=SCRAM-SHA-256",
            "--kafka-sasl-username=etl",
            "--kafka-sasl-password=hunter2",
            "--kafka-ssl-ca-location=/etc/kafka/ca.pem",
        ])
        .unwrap();
        assert_eq!(security.validate(), Ok(()));
        let properties = security.client_properties();
        for expected in [
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-256"),
            ("sasl.username", "etl"),
            ("sasl.password", "hunter2"),
            ("ssl.ca.location", "/etc/kafka/ca.pem"),
        ] {
            assert!(
                properties.contains(&(expected.0, expected.1.to_owned())),
                "{expected:?} in {properties:?}"
            );
        }
    }

    #[test]
    fn the_password_is_never_printed() {
        let security = parse(&[
            "--kafka-security-protocol=sasl_ssl",
            "--kafka-sasl-username=etl",
            "--kafka-sasl-password=hunter2",
        ])
        .unwrap();
        let debug = format!("{security:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("etl"), "{debug}");
    }

    #[test]
    fn sasl_without_credentials_is_refused() {
        let security = parse(&["--kafka-security-protocol=SASL_PLAINTEXT"]).unwrap();
        assert_eq!(
            security.validate(),
            Err(KafkaSecurityError::MissingCredentials {
                protocol: SecurityProtocol::SaslPlaintext
            })
        );
        assert!(parse(&["--kafka-sasl-mechanism=GSSAPI"]).is_err());
    }
}
