# syntax=docker/dockerfile:1
# One image with the four services: etl, storage, retrieval, sla-manager.
# The container's command picks the binary, e.g. `docker run IMAGE retrieval` or `IMAGE etl init-topic`.
#
#   docker build -t sla-monitor:0.1.0 .
#
# Stages: chef (toolchain + cargo-chef) -> planner (dependency recipe) -> builder (dependencies
# cached in their own layer, then the workspace) -> runtime (debian:bookworm-slim, non-root).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS chef
# protobuf-compiler: tonic-prost-build (crates/common/build.rs) compiles proto/sla.proto.
# cmake, build-essential, zlib: rdkafka-sys builds librdkafka from source (default features, libz).
# libssl-dev: rdkafka's `ssl` feature (Kafka TLS and SASL) links the system OpenSSL.
# libcurl headers: only needed should rdkafka's curl feature be turned on; harmless here.
RUN apt-get update \
    && apt-get install -y --no-install-recommends protobuf-compiler cmake build-essential zlib1g-dev pkg-config \
        libcurl4-openssl-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
ARG CARGO_CHEF_VERSION=0.1.77
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /build

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
# Dependencies only: this layer is rebuilt when Cargo.toml/Cargo.lock change, not on every source edit.
RUN cargo chef cook --release --locked --recipe-path recipe.json \
    --bin etl --bin storage --bin retrieval --bin sla-manager
COPY . .
RUN cargo build --release --locked --bin etl --bin storage --bin retrieval --bin sla-manager \
    && mkdir -p /out \
    && cp target/release/etl target/release/storage target/release/retrieval target/release/sla-manager /out/

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: TLS to a user's Prometheus, broker or database. The binaries link libc, libm,
# libgcc_s, libz and, for librdkafka's TLS and SASL, libssl3/libcrypto3 (ldd); libssl3 is named
# so as not to rest on ca-certificates' dependency on openssl. reqwest and mongodb use rustls.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 sla \
    && useradd --system --uid 10001 --gid sla --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sla
COPY --from=builder /out/ /usr/local/bin/
# Fail the build, not the container, if a shared library the binaries need is missing.
RUN ! ldd /usr/local/bin/etl /usr/local/bin/storage /usr/local/bin/retrieval /usr/local/bin/sla-manager | grep 'not found'
# Health checks without curl: a 10-line bash script over /dev/tcp (see the script's header).
COPY deploy/docker/http-probe /usr/local/bin/http-probe
ENV BIND_ADDRESS=0.0.0.0 \
    LOG_FORMAT=json \
    RUST_LOG=info
# The services read an optional .env from the working directory; /app has none.
WORKDIR /app
USER 10001:10001
EXPOSE 5000 5001 50052 8008 8009 8010 8011
# No ENTRYPOINT: the command names the binary (`etl`, `storage`, `retrieval`, `sla-manager`).
CMD ["retrieval"]
