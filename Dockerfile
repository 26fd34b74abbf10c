# cdcsink's container image (docs/packaging.md):
#   docker build -t cdcsink:0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
#   docker build --target smoke .     # also runs the smoke tests below
# packaging/image/build makes the same image without a container engine
# (tests/image/run checks that the two agree on user, entrypoint and labels).
#
# The image runs as uid 10001 and needs no writable path: it works with a
# read-only root filesystem (a jsonl sink's file needs a writable mount).
# No HEALTHCHECK: the image has no HTTP client, and Kubernetes ignores
# HEALTHCHECK anyway; probe /healthz and /readyz on http.listen, which must
# then listen on 0.0.0.0 (its default 127.0.0.1 is unreachable from outside).

ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim

# ---- build: the Release binary, hiredis 1.2 and librdkafka 2.8 linked statically
FROM ${DEBIAN_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Build dependencies first, so that a source change reuses this layer.
# scripts/deps also builds hiredis and librdkafka from Debian 13's source packages.
COPY scripts/deps scripts/deps
RUN scripts/deps build && rm -rf /var/lib/apt/lists/*
COPY . .
# The same configure, build and install as the .deb and packaging/image/build.
RUN packaging/stage /out /tmp/build

# ---- runtime: Debian's libraries, the cdcsink user, the binary --------------
FROM ${DEBIAN_IMAGE} AS runtime
ARG DEBIAN_IMAGE
ARG DEBIAN_FRONTEND=noninteractive
COPY packaging/runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' /tmp/runtime-packages \
    | xargs apt-get install -y --no-install-recommends \
 && rm -rf /tmp/runtime-packages /var/lib/apt/lists/* /var/cache/apt/* \
 && find /var/log -type f -delete
RUN useradd --uid 10001 --user-group --no-create-home \
        --home-dir /var/lib/cdcsink --shell /usr/sbin/nologin cdcsink \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/cdcsink
COPY --from=build /out/ /
USER 10001:10001
WORKDIR /var/lib/cdcsink
EXPOSE 9400/tcp
STOPSIGNAL SIGTERM
ENTRYPOINT ["cdcsink"]
CMD ["run", "-c", "/etc/cdcsink/pipeline.properties"]
# One label a line: tests/image/run reads them.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=
LABEL org.opencontainers.image.title="cdcsink"
LABEL org.opencontainers.image.description="Applies Debezium change events from Kafka to PostgreSQL, Redis, Elasticsearch/OpenSearch or JSON lines"
LABEL org.opencontainers.image.version="${VERSION}"
LABEL org.opencontainers.image.revision="${REVISION}"
LABEL org.opencontainers.image.created="${CREATED}"
LABEL org.opencontainers.image.documentation="/usr/share/doc/cdcsink/docs/packaging.md"
LABEL org.opencontainers.image.base.name="${DEBIAN_IMAGE}"

# ---- smoke: `docker build --target smoke .` ---------------------------------
FROM runtime AS smoke
# The binary starts on the image's libraries, as the image's user, and
# every sink's example pipeline file is valid.
RUN cdcsink version | grep -q '^cdcsink [0-9]' \
 && for f in /usr/share/doc/cdcsink/examples/*.properties; do \
        PGPASSWORD=x REDIS_PASSWORD=x ES_PASSWORD=x cdcsink check -c "$f" >/dev/null || exit 1; \
    done \
 && [ "$(id -u)" = 10001 ]

# ---- the image: the runtime stage (the default target is the last stage) ---
FROM runtime
