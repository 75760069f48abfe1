# signet's release image: a Rust builder stage, then a distroless-style runtime (no shell, no
# package manager) that runs as nonroot (65532:65532).
#
#   docker build --build-arg SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" \
#     --build-arg SIGNET_GIT_COMMIT="$(git rev-parse HEAD)" --build-arg VERSION=0.1.0 -t signet .
#
# The runtime's root filesystem is made by scripts/build-image.sh, the same script that
# assembles the released image without a container engine (scripts/release.sh): the binary,
# the shared libraries it links, Debian's CA bundle, /etc/passwd and /etc/group with nonroot,
# each OS package's copyright and dpkg record. Only the Rust toolchain's image differs from
# the release machine, so compare the two by content (labels, user, entrypoint, files), not by
# digest; the release script's image is the reproducible one.

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-slim-bookworm AS build
# cargo-auditable embeds the dependency list in the binary, for `cargo audit bin` and scanners.
RUN cargo install --locked cargo-auditable --version 0.7.7
WORKDIR /src
COPY . .
ARG SOURCE_DATE_EPOCH=0
ARG SIGNET_GIT_COMMIT=unknown
ENV SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} SIGNET_GIT_COMMIT=${SIGNET_GIT_COMMIT}
RUN cargo auditable build --locked --release --bin signet \
    && scripts/build-image.sh --binary target/release/signet --rootfs-only /rootfs

FROM scratch
ARG VERSION=0.1.0
ARG SIGNET_GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="signet" \
      org.opencontainers.image.source="https://example.invalid/signet" \
      org.opencontainers.image.revision="${SIGNET_GIT_COMMIT}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /home/nonroot
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/signet"]
