//! How the service is wired: `App::build` creates the clients, the routers and the gRPC
//! service and binds the three listeners; `run_until_stopped` serves them, with the periodic
//! refresh of the SLA telemetry, until the token is cancelled.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::Router;
use common::{
    admin::{self, Probe},
    promql::PromClient,
    proto::sla_service_server::SlaServiceServer,
    retry::RetryPolicy,
    shutdown,
    store::MetricsRepository,
};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::ServerTlsConfig;

use crate::{
    config::Config,
    grpc::SlaGrpc,
    instruments::Instruments,
    manager::Manager,
    repository::SlaSetRepository,
    routes::{self, AppState},
    ui,
};

/// How long a Prometheus call keeps retrying transient failures: short, because a request is
/// waiting and a prompt 502 beats a timeout.
const PROMETHEUS_RETRY_FOR: Duration = Duration::from_secs(2);

/// How long the tasks get to finish once stopped.
const DRAIN_PATIENCE: Duration = Duration::from_secs(10);

/// The gRPC server's limits. A `GetSLASet` request is empty, so anything larger than a few
/// bytes is not a real client: a small decoding limit stops a client from making the server
/// buffer megabytes. One answer message is one SLA (its labels and range), far below 1 MiB.
pub const GRPC_MAX_REQUEST_BYTES: usize = 4 * 1024;
const GRPC_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// A call that takes longer is cancelled (`DEADLINE_EXCEEDED`): the answer is one database
/// read, so a slow one means the database is in trouble and the caller retries.
const GRPC_TIMEOUT: Duration = Duration::from_secs(10);
/// Calls in flight per connection, and streams per HTTP/2 connection: the etl makes one call a
/// minute per replica; more is a misbehaving client, which waits (or is shed) instead of
/// spawning unbounded work.
const GRPC_CONCURRENCY_PER_CONNECTION: usize = 16;
const GRPC_MAX_CONCURRENT_STREAMS: u32 = 32;
/// HTTP/2 pings find dead peers (a client whose host vanished) so their connections are closed.
const GRPC_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const GRPC_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A metric could not be registered.
    #[error("cannot register the metrics")]
    Metrics(#[from] prometheus::Error),
    /// The MongoDB connection string is not valid.
    #[error("invalid MongoDB configuration")]
    Database(#[from] mongodb::error::Error),
    /// The Prometheus client could not be built.
    #[error("cannot build the Prometheus client")]
    Prometheus(#[from] common::promql::PromError),
    /// The HTTP client of the UI could not be built.
    #[error("cannot build the retrieval client")]
    Retrieval(#[from] reqwest::Error),
    /// The gRPC TLS settings (`SLA_MANAGER_GRPC_TLS_*`) do not make a server.
    #[error("invalid gRPC TLS configuration")]
    GrpcTls(#[from] common::grpc_tls::GrpcTlsError),
    /// A listener could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An HTTP listener failed.
    #[error("the {listener} listener failed")]
    Http {
        /// `api` or `admin`.
        listener: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("the gRPC server failed")]
    Grpc(#[from] tonic::transport::Error),
}

/// The service, built and bound, not yet serving.
#[derive(Debug)]
pub struct App {
    api: TcpListener,
    grpc: TcpListener,
    admin: TcpListener,
    api_router: Router,
    admin_router: Router,
    grpc_service: SlaGrpc,
    /// The gRPC API's TLS, checked at build; `None` serves plain text.
    grpc_tls: Option<ServerTlsConfig>,
    manager: Manager,
    refresh_interval: Duration,
    refresh_timeout: Duration,
    forecast: (ui::ForecastExport, PromClient),
}

impl App {
    /// Builds the service from `config`: the database and Prometheus clients (both connect
    /// lazily, so a dependency that is down does not prevent start-up; `/readyz` tells), the
    /// routers and the listeners (port 0 picks a free port).
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        // First: a bad certificate or key file is a configuration error, found before anything
        // else is built.
        let grpc_tls = config.grpc_tls.server_config()?;
        match &config.grpc_tls.grpc_tls_cert {
            Some(cert) if grpc_tls.is_some() => tracing::info!(
                cert = %cert.display(),
                client_certificates_required = config.grpc_tls.grpc_tls_client_ca.is_some(),
                "the gRPC API serves TLS"
            ),
            _ => tracing::info!("the gRPC API serves plain text (no SLA_MANAGER_GRPC_TLS_CERT)"),
        }
        let registry = common::telemetry::registry();
        let instruments = Arc::new(Instruments::register(&registry)?);
        let forecast_export = ui::ForecastExport::register(&registry)?;
        let database = config.mongo.database().await?;
        let slaset = SlaSetRepository::new(&database);
        let metrics = MetricsRepository::new(&database);
        let prometheus = PromClient::new(
            config.prometheus.prometheus_url.clone(),
            config.prometheus.prometheus_timeout,
        )?
        .with_retry(RetryPolicy::default().with_max_elapsed(Some(PROMETHEUS_RETRY_FOR)));
        let manager = Manager::new(
            slaset.clone(),
            metrics,
            prometheus.clone(),
            instruments.clone(),
            config.sla_set_size.into(),
        );

        // Without a token anyone who reaches the API can replace the SLA set: allowed (a local
        // run), but said loudly, and visible to alert rules as `sla_api_token_configured 0`.
        instruments.api_token_configured(config.api_token.is_some());
        if config.api_token.is_none() {
            tracing::warn!(
                variable = "SLA_API_TOKEN",
                "SLA_API_TOKEN is not set: anyone who reaches the API can replace the SLA set"
            );
        }
        let state = AppState {
            manager: manager.clone(),
            api_token: config.api_token.clone(),
        };
        let api_router = common::http::with_edge(
            routes::router(state).merge(ui::router(ui::UiState::new(manager.clone(), &config.ui)?)),
            &config.edge,
            instruments.http.clone(),
        );
        let prometheus_for_export = prometheus.clone();
        let probes = vec![
            Probe::new("database", move || {
                let slaset = slaset.clone();
                async move { slaset.ping().await }
            }),
            Probe::new("prometheus", move || {
                let prometheus = prometheus.clone();
                async move { prometheus.ping().await }
            }),
        ];
        let admin_router = admin::router(registry, probes);

        let ip = config.bind.bind_address;
        Ok(Self {
            api: bind(SocketAddr::new(ip, config.port)).await?,
            grpc: bind(SocketAddr::new(ip, config.grpc_port)).await?,
            admin: bind(SocketAddr::new(ip, config.admin_port)).await?,
            api_router,
            admin_router,
            grpc_service: SlaGrpc::new(manager.clone()),
            grpc_tls,
            manager,
            refresh_interval: config.refresh_interval,
            refresh_timeout: config.edge.request_timeout,
            forecast: (forecast_export, prometheus_for_export),
        })
    }

    /// Where the REST API listens.
    pub fn api_address(&self) -> SocketAddr {
        local_address(&self.api)
    }

    /// Where the gRPC API listens.
    pub fn grpc_address(&self) -> SocketAddr {
        local_address(&self.grpc)
    }

    /// Where the admin listener listens.
    pub fn admin_address(&self) -> SocketAddr {
        local_address(&self.admin)
    }

    /// Serves the three listeners and refreshes the SLA telemetry until `stop` is cancelled (or
    /// one of them fails, which stops the others), then lets requests in flight finish.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), RunError> {
        let mut tasks: JoinSet<Result<(), RunError>> = JoinSet::new();
        tasks.spawn(serve_http("api", self.api, self.api_router, stop.clone()));
        tasks.spawn(serve_http(
            "admin",
            self.admin,
            self.admin_router,
            stop.clone(),
        ));
        // TCP keepalive is not set here: the listener is ours (`serve_with_incoming`), and the
        // HTTP/2 pings cover dead peers. Over the concurrency limit, calls are shed
        // (`UNAVAILABLE`, which the etl retries) rather than queued without bound.
        let mut grpc = tonic::transport::Server::builder();
        if let Some(tls) = self.grpc_tls {
            grpc = grpc.tls_config(tls)?;
        }
        let grpc = grpc
            .timeout(GRPC_TIMEOUT)
            .concurrency_limit_per_connection(GRPC_CONCURRENCY_PER_CONNECTION)
            .load_shed(true)
            .max_concurrent_streams(GRPC_MAX_CONCURRENT_STREAMS)
            .http2_keepalive_interval(Some(GRPC_KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(GRPC_KEEPALIVE_TIMEOUT))
            .add_service(
                SlaServiceServer::new(self.grpc_service)
                    .max_decoding_message_size(GRPC_MAX_REQUEST_BYTES)
                    .max_encoding_message_size(GRPC_MAX_RESPONSE_BYTES),
            )
            .serve_with_incoming_shutdown(
                TcpListenerStream::new(self.grpc),
                stop.clone().cancelled_owned(),
            );
        tasks.spawn(async move { grpc.await.map_err(RunError::from) });
        tasks.spawn(refresh_loop(
            self.manager,
            self.forecast,
            self.refresh_interval,
            self.refresh_timeout,
            stop.clone(),
        ));

        let mut first_error = None;
        tokio::select! {
            // Stopping makes the servers end: that is not a failure.
            biased;
            _ = stop.cancelled() => {}
            Some(ended) = tasks.join_next() => {
                match ended {
                    Ok(Err(error)) => {
                        tracing::error!(error = %common::admin::error_chain(&error), "a server failed; stopping");
                        first_error = Some(error);
                    }
                    Ok(Ok(())) => tracing::warn!("a server stopped unexpectedly; stopping"),
                    Err(join_error) => tracing::error!(error = %join_error, "a server task panicked; stopping"),
                }
                stop.cancel();
            }
        }
        let drained = shutdown::drain(tasks, DRAIN_PATIENCE).await;
        first_error.map_or(drained, Err)
    }
}

async fn bind(address: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| StartupError::Bind { address, source })
}

fn local_address(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .expect("a bound listener has a local address")
}

async fn serve_http(
    listener_name: &'static str,
    listener: TcpListener,
    router: Router,
    stop: CancellationToken,
) -> Result<(), RunError> {
    axum::serve(listener, router)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
        .map_err(|source| RunError::Http {
            listener: listener_name,
            source,
        })
}

/// Recomputes the SLA telemetry every `every`, the first time one interval after start. Each
/// refresh gets `timeout` (the request timeout: it does what a request does), so that no
/// refresh keeps working in the background without end.
async fn refresh_loop(
    manager: Manager,
    (forecast, prometheus): (ui::ForecastExport, PromClient),
    every: Duration,
    timeout: Duration,
    stop: CancellationToken,
) -> Result<(), RunError> {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = ticker.tick() => {
                let ok = match tokio::time::timeout(timeout, manager.refresh()).await {
                    Ok(Ok(())) => true,
                    Ok(Err(error)) => {
                        tracing::warn!(error = %common::admin::error_chain(&error), "SLA refresh failed");
                        false
                    }
                    Err(_) => {
                        tracing::warn!(?timeout, "SLA refresh took too long; abandoned");
                        false
                    }
                };
                manager.refreshed(ok);
                match tokio::time::timeout(timeout, forecast.refresh(&manager, &prometheus)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        tracing::warn!(error = %common::admin::error_chain(&error), "forecast export failed");
                    }
                    Err(_) => tracing::warn!(?timeout, "forecast export took too long; abandoned"),
                }
            }
        }
    }
}
