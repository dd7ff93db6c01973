//! Graceful shutdown: SIGINT and SIGTERM cancel one token that every task watches.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A token cancelled on the first SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let signal = wait_for_signal().await;
        tracing::info!(signal, "shutting down");
        cancel.cancel();
    });
    token
}

async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the service");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Waits up to `patience` for the tasks to finish, then aborts the rest. Returns the first
/// error a task ended with, so `main` can exit non-zero.
pub async fn drain<E: Send + 'static>(
    mut tasks: JoinSet<Result<(), E>>,
    patience: Duration,
) -> Result<(), E> {
    let mut first_error = None;
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(Ok(Err(error)))) => {
                first_error.get_or_insert(error);
            }
            Ok(Some(Ok(Ok(())))) => {}
            Ok(Some(Err(join_error))) => {
                if join_error.is_panic() {
                    tracing::error!(error = %join_error, "a task panicked");
                }
            }
            Ok(None) => break,
            Err(_) => {
                tracing::warn!(
                    remaining = tasks.len(),
                    ?patience,
                    "tasks did not stop in time; aborting them"
                );
                tasks.abort_all();
                break;
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}
