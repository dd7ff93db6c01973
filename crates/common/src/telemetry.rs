//! Logs and metrics set-up shared by every service.
//!
//! Building a subscriber is kept apart from installing it, so tests can install one once and
//! keep it silent unless `TEST_LOG` is set.

use std::sync::Once;

use tracing::Subscriber;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter, layer::SubscriberExt};

use crate::config::LogFormat;

/// A subscriber that writes to `sink` in `format`, filtered by `RUST_LOG` or else `default_filter`.
pub fn subscriber<W>(
    format: LogFormat,
    default_filter: &str,
    sink: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => {
            Box::new(registry.with(tracing_subscriber::fmt::layer().with_writer(sink)))
        }
        LogFormat::Json => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(sink),
            ),
        ),
    }
}

/// Installs the process-wide subscriber writing to stderr. Call once, first thing in `main`.
pub fn init(format: LogFormat) -> Result<(), tracing::subscriber::SetGlobalDefaultError> {
    tracing::subscriber::set_global_default(subscriber(format, "info", std::io::stderr))
}

/// Installs a subscriber for tests, once per process: silent unless `TEST_LOG` is set.
pub fn init_for_tests() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let installed = if std::env::var_os("TEST_LOG").is_some() {
            tracing::subscriber::set_global_default(subscriber(
                LogFormat::Text,
                "debug",
                std::io::stderr,
            ))
        } else {
            tracing::subscriber::set_global_default(subscriber(
                LogFormat::Text,
                "info",
                std::io::sink,
            ))
        };
        // Another test harness may have installed one already; theirs is as good as ours.
        let _ = installed;
    });
}

/// A fresh metrics registry for one service instance (never the global default, so several
/// instances can live in one test process), with the process collector where supported.
pub fn registry() -> prometheus::Registry {
    let registry = prometheus::Registry::new();
    #[cfg(target_os = "linux")]
    {
        let process = prometheus::process_collector::ProcessCollector::for_self();
        // Registration fails only on a name clash, impossible on a fresh registry.
        let _ = registry.register(Box::new(process));
    }
    registry
}
