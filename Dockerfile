# syntax=docker/dockerfile:1
# Builds the ipsync image in two stages: a Rust toolchain compiles the release binary, and a
# distroless runtime (glibc, libgcc, CA certificates, no shell) runs it.
#
# TODO: pin both base images by digest. No registry was reachable where this file was written,
# so no digest could be checked. Resolve them with
#   docker buildx imagetools inspect docker.io/library/rust:1.95-slim-bookworm
#   docker buildx imagetools inspect gcr.io/distroless/cc-debian12:nonroot
# and append `@sha256:<digest>` to the two ARG defaults below. Until then the release
# workflow resolves and passes the digests as build arguments.
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin ipsync

# The default target: runs as the distroless `nonroot` user (65532).
FROM ${RUNTIME_IMAGE} AS runtime
COPY --from=builder /src/target/release/ipsync /usr/local/bin/ipsync
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ipsync"]
CMD ["--help"]

# The image the GitHub Action runs. GitHub documents that Docker actions must run as the default
# user (root): the runner creates GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and the checked-out
# workspace as its own user, so a non-root container user cannot write them.
# https://docs.github.com/en/actions/reference/workflows-and-actions/dockerfile-support#user
FROM runtime AS action
# hadolint ignore=DL3002
USER 0:0
