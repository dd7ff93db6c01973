//! How the service is wired: `App::build` creates the clients and binds both listeners (port 0
//! allowed), `run_until_stopped` serves them until the token is cancelled.
//!
//! - API (`RETRIEVAL_PORT`): the routes of [`crate::routes`] behind `common::http::with_edge`
//!   (request id, trace span per route, compression, body limit, request timeout, load shedding).
//! - Admin (`RETRIEVAL_ADMIN_PORT`): `/metrics` (our telemetry), `/healthz`, `/readyz` (database
//!   and target Prometheus).

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use common::{
    admin::{self, Probe},
    http::{HttpMetrics, with_edge},
    promql::{PromClient, PromError},
    retry::RetryPolicy,
    shutdown,
    store::MetricsRepository,
};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    instruments::Instruments,
    repository::ResultsRepository,
    routes::{self, AppState},
};

/// How long open requests may take to finish once shutdown starts.
const SHUTDOWN_PATIENCE: Duration = Duration::from_secs(10);

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A listener could not be bound.
    #[error("cannot listen on {address} ({listener})")]
    Bind {
        /// Which listener.
        listener: &'static str,
        /// Where.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database client could not be built (a malformed `MONGO_URI`).
    #[error("invalid database configuration")]
    Database(#[source] mongodb::error::Error),
    /// The Prometheus client could not be built.
    #[error("invalid Prometheus configuration")]
    Prometheus(#[source] PromError),
    /// A metric could not be registered.
    #[error("cannot register metrics")]
    Metrics(#[source] prometheus::Error),
    /// A listener failed while serving.
    #[error("the {listener} listener failed")]
    Serve {
        /// Which listener.
        listener: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The service, built and bound, not yet serving.
#[derive(Debug)]
pub struct App {
    api: (TcpListener, Router),
    admin: (TcpListener, Router),
}

impl App {
    /// Builds the clients and the routers and binds both listeners. The database and
    /// Prometheus are reached lazily: the service starts while they are down (`/readyz` says so).
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let registry = common::telemetry::registry();
        let instruments = Instruments::register(&registry).map_err(StartupError::Metrics)?;
        let http_metrics = HttpMetrics::register(&registry).map_err(StartupError::Metrics)?;

        let database = config
            .mongo
            .database()
            .await
            .map_err(StartupError::Database)?;
        let repository = ResultsRepository::new(
            MetricsRepository::new(&database),
            config.mongo.mongo_timeout,
            instruments.clone(),
        );
        // A client waits for one answer at most: retries stay within a fraction of the request timeout.
        let retry = RetryPolicy::default().with_max_elapsed(Some(config.edge.request_timeout / 4));
        let prometheus = PromClient::new(
            config.prometheus.prometheus_url.clone(),
            config.prometheus.prometheus_timeout,
        )
        .map_err(StartupError::Prometheus)?
        .with_retry(retry);

        let probes = vec![
            Probe::new("database", {
                let repository = repository.clone();
                move || {
                    let repository = repository.clone();
                    async move { repository.ping().await }
                }
            }),
            Probe::new("prometheus", {
                let prometheus = prometheus.clone();
                move || {
                    let prometheus = prometheus.clone();
                    async move { prometheus.ping().await }
                }
            }),
        ];
        let state = AppState {
            repository,
            prometheus,
            instruments,
        };
        let api_router = with_edge(routes::router(state), &config.edge, http_metrics);
        let admin_router = admin::router(registry, probes);

        let api = bind(
            "api",
            SocketAddr::new(config.bind.bind_address, config.port),
        )
        .await?;
        let admin = bind(
            "admin",
            SocketAddr::new(config.bind.bind_address, config.admin_port),
        )
        .await?;
        Ok(Self {
            api: (api, api_router),
            admin: (admin, admin_router),
        })
    }

    /// Where the API listens.
    pub fn api_address(&self) -> SocketAddr {
        self.api
            .0
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where the admin listener listens.
    pub fn admin_address(&self) -> SocketAddr {
        self.admin
            .0
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves both listeners until `token` is cancelled (or one of them fails, which stops the
    /// other), then lets open requests finish for a while.
    pub async fn run_until_stopped(self, token: CancellationToken) -> Result<(), StartupError> {
        let stop = token.child_token();
        let mut servers = JoinSet::new();
        for (listener, (socket, router)) in [("api", self.api), ("admin", self.admin)] {
            let stop = stop.clone();
            servers.spawn(async move {
                let served = axum::serve(socket, router)
                    .with_graceful_shutdown(stop.clone().cancelled_owned())
                    .await;
                stop.cancel();
                served.map_err(|source| StartupError::Serve { listener, source })
            });
        }
        stop.cancelled().await;
        shutdown::drain(servers, SHUTDOWN_PATIENCE).await
    }
}

async fn bind(listener: &'static str, address: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| StartupError::Bind {
            listener,
            address,
            source,
        })
}
