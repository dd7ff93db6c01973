//! `fault-proxy`'s servers: a TCP proxy and an HTTP front that forward to an upstream and
//! inject the [`Fault`] their [`Switch`] holds, and the control endpoint that sets it
//! (`PUT /fault` with the fault's text, `GET /fault` for it and the counts).

use std::{
    io,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::fault::{self, Fault};

/// The largest request body the HTTP front forwards.
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The fault in force, shared by a proxy and its control endpoint, with what was counted.
#[derive(Debug, Clone)]
pub struct Switch {
    fault: Arc<watch::Sender<Fault>>,
    counts: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    connections: AtomicU64,
    faulted: AtomicU64,
}

impl Switch {
    /// A switch holding `fault`.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault: Arc::new(watch::Sender::new(fault)),
            counts: Arc::default(),
        }
    }

    /// The fault in force.
    pub fn get(&self) -> Fault {
        *self.fault.borrow()
    }

    /// Puts `fault` in force, for open connections too.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
        tracing::info!(%fault, "fault set");
    }

    /// Connections (TCP) or requests (HTTP) seen, and what a fault touched: connections reset
    /// or refused, chunks delayed or held (TCP), requests faulted (HTTP).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counts.connections.load(Ordering::Relaxed),
            self.counts.faulted.load(Ordering::Relaxed),
        )
    }

    fn seen(&self, faulted: bool) {
        self.counts.connections.fetch_add(1, Ordering::Relaxed);
        if faulted {
            self.counts.faulted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The control endpoint: `GET /fault` answers the fault and the counts, `PUT /fault` sets the
/// fault its body names (400 with what is expected when it names none).
pub fn control(switch: Switch) -> Router {
    Router::new()
        .route("/fault", get(show).put(set))
        .with_state(switch)
}

async fn show(State(switch): State<Switch>) -> String {
    let (seen, faulted) = switch.counts();
    format!("{}\nseen {seen}\nfaulted {faulted}\n", switch.get())
}

async fn set(State(switch): State<Switch>, body: String) -> Response {
    match body.parse::<Fault>() {
        Ok(fault) => {
            switch.set(fault);
            format!("{fault}\n").into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response(),
    }
}

/// Forwards every connection `listener` accepts to `upstream`, with the switch's fault.
pub async fn serve_tcp(listener: TcpListener, upstream: String, switch: Switch) -> io::Result<()> {
    loop {
        let (client, peer) = listener.accept().await?;
        let (upstream, switch) = (upstream.clone(), switch.clone());
        tokio::spawn(async move {
            if let Err(error) = connection(client, &upstream, switch).await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
}

async fn connection(mut client: TcpStream, upstream: &str, switch: Switch) -> io::Result<()> {
    let fault = switch.get();
    switch.seen(fault != Fault::None);
    if fault == Fault::Reset {
        return reset(&client);
    }
    let mut server = match TcpStream::connect(upstream).await {
        Ok(server) => server,
        Err(error) => {
            tracing::warn!(upstream, %error, "upstream unreachable; client reset");
            return reset(&client);
        }
    };
    let was_reset = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let both = async {
            tokio::try_join!(
                pump(client_read, server_write, &switch),
                pump(server_read, client_write, &switch),
            )
        };
        tokio::select! {
            ended = both => match ended {
                Ok(_) => false,
                Err(error) if error.kind() == CUT => true,
                Err(error) => return Err(error),
            },
            () = until_reset(switch.fault.subscribe()) => true,
        }
    };
    if was_reset {
        switch.counts.faulted.fetch_add(1, Ordering::Relaxed);
        reset(&server)?;
        reset(&client)?;
    }
    Ok(())
}

/// The error kind by which a pump says it cut a message ([`Fault::Cut`]).
const CUT: io::ErrorKind = io::ErrorKind::ConnectionAborted;

/// Drops the connection with an RST instead of a FIN.
fn reset(stream: &TcpStream) -> io::Result<()> {
    stream.set_zero_linger()
}

async fn until_reset(mut fault: watch::Receiver<Fault>) {
    loop {
        if *fault.borrow_and_update() == Fault::Reset {
            return;
        }
        if fault.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Copies one direction, holding each chunk as the fault says; at the end of the input, shuts
/// the output down so the other side sees it too. Counts each chunk it delayed, held or cut as
/// faulted; after a cut it ends with an error of kind [`CUT`].
async fn pump<R, W>(mut from: R, mut to: W, switch: &Switch) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut fault = switch.fault.subscribe();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = from.read(&mut buffer).await?;
        if read == 0 {
            return to.shutdown().await;
        }
        let now = *fault.borrow_and_update();
        if matches!(now, Fault::Delay(_) | Fault::Blackhole | Fault::Cut) {
            switch.counts.faulted.fetch_add(1, Ordering::Relaxed);
        }
        if now == Fault::Cut {
            to.write_all(&buffer[..read / 2]).await?;
            to.flush().await?;
            return Err(io::Error::new(CUT, "message cut by the fault"));
        }
        loop {
            let now = *fault.borrow_and_update();
            match now {
                Fault::Delay(delay) => tokio::time::sleep(delay).await,
                // held until the fault changes (or the switch is gone)
                Fault::Blackhole if fault.changed().await.is_ok() => continue,
                _ => {}
            }
            break;
        }
        to.write_all(&buffer[..read]).await?;
    }
}

/// The HTTP front's state: where it forwards, and the fault.
#[derive(Debug, Clone)]
struct Front {
    upstream: String,
    client: reqwest::Client,
    switch: Switch,
}

/// Forwards every request to `upstream` (a base URL) and answers with the upstream's answer,
/// faulted as the switch says (delay, status, truncate, special sample values).
pub async fn serve_http(listener: TcpListener, upstream: String, switch: Switch) -> io::Result<()> {
    let front = Front {
        upstream: upstream.trim_end_matches('/').to_owned(),
        client: reqwest::Client::new(),
        switch,
    };
    axum::serve(listener, Router::new().fallback(forward).with_state(front)).await
}

async fn forward(State(front): State<Front>, request: Request) -> Response {
    let fault = front.switch.get();
    front.switch.seen(fault != Fault::None);
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body =
                r#"{"status":"error","errorType":"internal","error":"injected by fault-proxy"}"#;
            return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        }
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        _ => {}
    }
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = front
        .client
        .request(parts.method, format!("{}{path}", front.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        // The body is rewritten: it must come back uncompressed, and its length is ours.
        if ![
            header::HOST,
            header::CONTENT_LENGTH,
            header::ACCEPT_ENCODING,
        ]
        .contains(name)
        {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(%error, "upstream did not answer");
            return (
                StatusCode::BAD_GATEWAY,
                "fault-proxy: upstream did not answer",
            )
                .into_response();
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = match answer.bytes().await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "upstream answer cut");
            return (StatusCode::BAD_GATEWAY, "fault-proxy: upstream answer cut").into_response();
        }
    };
    let body = match fault {
        Fault::Truncate => Bytes::copy_from_slice(fault::truncated(&bytes)),
        Fault::Sample(special) => fault::with_samples(&bytes, special).map_or(bytes, Bytes::from),
        _ => bytes,
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = forwarded(headers);
    response
}

/// The upstream's headers without those that describe the body as it came (axum sets them
/// for the body sent).
fn forwarded(mut headers: HeaderMap) -> HeaderMap {
    for name in [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
    ] {
        headers.remove(name);
    }
    headers
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;
