//! The proxies against real loopback servers: an echo server behind the TCP proxy, a small
//! Prometheus-like HTTP server behind the front.

use std::time::{Duration, Instant};

use axum::{Json, routing::get};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use super::*;
use crate::fault::Special;

/// How long the tests wait for what must not happen.
const QUIET: Duration = Duration::from_millis(300);

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    (listener, address)
}

/// An echo server, and a TCP proxy to it with `fault`.
async fn echo_behind_proxy(fault: Fault) -> (String, Switch) {
    let (echo, echo_address) = listener().await;
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = echo.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    let (proxy, address) = listener().await;
    let switch = Switch::new(fault);
    tokio::spawn(serve_tcp(proxy, echo_address, switch.clone()));
    (address, switch)
}

/// Likewise, and a connection through the proxy.
async fn connected_behind_proxy(fault: Fault) -> (String, Switch, TcpStream) {
    let (address, switch) = echo_behind_proxy(fault).await;
    let stream = TcpStream::connect(&address).await.unwrap();
    (address, switch, stream)
}

/// Writes `message` and reads as many bytes back, or fails within `patience`.
async fn round_trip(
    stream: &mut TcpStream,
    message: &[u8],
    patience: Duration,
) -> io::Result<Vec<u8>> {
    stream.write_all(message).await?;
    let mut back = vec![0; message.len()];
    match tokio::time::timeout(patience, stream.read_exact(&mut back)).await {
        Ok(read) => read.map(|_| back),
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "no answer")),
    }
}

#[tokio::test]
async fn without_a_fault_bytes_go_through_both_ways() {
    let (_, switch, mut stream) = connected_behind_proxy(Fault::None).await;
    let back = round_trip(&mut stream, b"hello", QUIET * 10).await.unwrap();
    assert_eq!(back, b"hello");
    assert_eq!(switch.counts(), (1, 0));
}

#[tokio::test]
async fn a_delay_holds_each_chunk_both_ways() {
    let (_, switch, mut stream) = connected_behind_proxy(Fault::None).await;
    switch.set(Fault::Delay(Duration::from_millis(200)));
    let started = Instant::now();
    round_trip(&mut stream, b"slow", Duration::from_secs(10))
        .await
        .unwrap();
    // once on the way there, once on the way back
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_reset_drops_open_connections_and_every_new_one_until_it_ends() {
    let (address, switch, mut open) = connected_behind_proxy(Fault::None).await;
    round_trip(&mut open, b"before", QUIET * 10).await.unwrap();

    switch.set(Fault::Reset);
    tokio::time::sleep(QUIET).await;
    let error = round_trip(&mut open, b"after", QUIET * 10)
        .await
        .unwrap_err();
    assert_ne!(error.kind(), io::ErrorKind::TimedOut, "{error}");
    let mut new = TcpStream::connect(&address).await.unwrap();
    let error = round_trip(&mut new, b"new", QUIET * 10).await.unwrap_err();
    assert_ne!(error.kind(), io::ErrorKind::TimedOut, "{error}");

    switch.set(Fault::None);
    let mut again = TcpStream::connect(&address).await.unwrap();
    assert_eq!(
        round_trip(&mut again, b"again", QUIET * 10).await.unwrap(),
        b"again"
    );
    assert_eq!(switch.counts().1, 2, "the open connection and the new one");
}

#[tokio::test]
async fn a_cut_forwards_half_a_message_then_resets_the_connection() {
    let (_, switch, mut stream) = connected_behind_proxy(Fault::None).await;
    round_trip(&mut stream, b"whole", QUIET * 10).await.unwrap();

    switch.set(Fault::Cut);
    stream.write_all(b"0123456789").await.unwrap();
    let mut back = Vec::new();
    let read = tokio::time::timeout(QUIET * 10, stream.read_to_end(&mut back))
        .await
        .unwrap();
    assert!(read.is_err() || back.len() < 10, "{read:?} {back:?}");
    assert!(
        b"01234".starts_with(&back),
        "at most the first half came back: {back:?}"
    );
    assert_eq!(
        switch.counts(),
        (1, 2),
        "one chunk cut, one connection reset"
    );
}

#[tokio::test]
async fn a_blackhole_holds_everything_until_it_ends_then_forwards_it() {
    let (_, switch, mut stream) = connected_behind_proxy(Fault::Blackhole).await;
    let error = round_trip(&mut stream, b"held", QUIET).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);

    switch.set(Fault::None);
    let mut back = vec![0; 4];
    tokio::time::timeout(QUIET * 10, stream.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, b"held");
    assert_eq!(
        switch.counts(),
        (1, 2),
        "a connection accepted in the fault, a chunk held"
    );
}

const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up"},"value":[1700000000,"1"]}]}}"#;

/// A Prometheus-like server answering VECTOR at /api/v1/query, and a front to it.
async fn prometheus_behind_front(fault: Fault) -> (String, Switch) {
    let (upstream, upstream_address) = listener().await;
    let app = Router::new().route(
        "/api/v1/query",
        get(|| async { Json(serde_json::from_str::<serde_json::Value>(VECTOR).unwrap()) }),
    );
    tokio::spawn(async move { axum::serve(upstream, app).await });
    let (front, address) = listener().await;
    let switch = Switch::new(fault);
    tokio::spawn(serve_http(
        front,
        format!("http://{upstream_address}/"),
        switch.clone(),
    ));
    (format!("http://{address}/api/v1/query?query=up"), switch)
}

async fn get_text(url: &str) -> (u16, String) {
    let answer = reqwest::get(url).await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test]
async fn the_front_forwards_the_answer_unchanged_without_a_fault() {
    let (url, _) = prometheus_behind_front(Fault::None).await;
    let (status, body) = get_text(&url).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::from_str::<serde_json::Value>(VECTOR).unwrap()
    );
}

#[tokio::test]
async fn the_front_answers_the_status_without_asking_upstream() {
    let (url, switch) = prometheus_behind_front(Fault::Status(503)).await;
    let (status, body) = get_text(&url).await;
    assert_eq!(status, 503);
    assert!(body.contains("injected by fault-proxy"), "{body}");
    assert_eq!(switch.counts(), (1, 1));
}

#[tokio::test]
async fn the_front_cuts_the_body_or_replaces_its_samples() {
    let (url, switch) = prometheus_behind_front(Fault::Truncate).await;
    let (status, body) = get_text(&url).await;
    assert_eq!(status, 200);
    assert_eq!(body, &VECTOR[..VECTOR.len() / 2]);

    for (special, text) in [
        (Special::NaN, "NaN"),
        (Special::PosInf, "+Inf"),
        (Special::NegInf, "-Inf"),
    ] {
        switch.set(Fault::Sample(special));
        let (_, body) = get_text(&url).await;
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["data"]["result"][0]["value"][1], text);
    }
}

#[tokio::test]
async fn the_front_answers_later_with_a_delay() {
    let (url, _) = prometheus_behind_front(Fault::Delay(Duration::from_millis(300))).await;
    let started = Instant::now();
    assert_eq!(get_text(&url).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_control_endpoint_sets_a_fault_and_refuses_what_is_none() {
    let switch = Switch::new(Fault::None);
    let (control_listener, address) = listener().await;
    tokio::spawn(async move { axum::serve(control_listener, control(switch)).await });
    let client = reqwest::Client::new();
    let url = format!("http://{address}/fault");
    let put = |body: &'static str| client.put(&url).body(body).send();

    let answer = put("status=502").await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "status=502\n");
    assert!(get_text(&url).await.1.starts_with("status=502\nseen 0\n"));

    let answer = put("slow").await.unwrap();
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.unwrap().contains("expected none"));
    assert!(
        get_text(&url).await.1.starts_with("status=502\n"),
        "a refused fault changes nothing"
    );
}
