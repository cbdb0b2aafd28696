# Scrubber image: `scrubber run` (Kafka pipeline) by default, `scrubber serve` for the HTTP API.
# Every dependency, the spaCy model included, comes from requirements.lock (exact versions and
# hashes, `make lock`); nothing is downloaded at run time. Runs as uid 10001 on a read-only root:
# the only writable paths are /tmp and /var/lib/scrubber (mount both; the chart does).
# docs/deploy.md "Image" says how the base digest was chosen and how the image is built here.
#
#   docker build -t scrubber:0.1.0 .
#   buildah bud --format docker --secret id=pip_cert,src=/path/ca.pem -t scrubber:0.1.0 .   # behind a TLS proxy

# python:3.11-slim-bookworm, pinned by digest (a multi-arch index). Refresh: `crane digest
# python:3.11-slim-bookworm` (or `docker buildx imagetools inspect`), then rebuild and test.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# binutils: `strip` for the debug info that some wheels ship (spaCy's alone: ~60 MB).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >/dev/null \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/scrubber
COPY requirements.lock /src/requirements.lock
# --require-hashes: each file must match the lock. The lock's setuptools and wheel go in first,
# so the one sdist (`names`) and Scrubber itself build with them, without build isolation:
# nothing unpinned is fetched.
RUN --mount=type=secret,id=pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
 && awk '/^(setuptools|wheel)==/ {keep = 1} keep {print} keep && !/\\$/ {keep = 0}' \
      /src/requirements.lock > /tmp/build-tools.lock \
 && /opt/scrubber/bin/pip install --quiet --require-hashes --no-deps -r /tmp/build-tools.lock \
 && /opt/scrubber/bin/pip install --quiet --require-hashes --no-deps --no-build-isolation \
      -r /src/requirements.lock
COPY pyproject.toml README.md /src/
COPY scrubber /src/scrubber
COPY recognizers /src/recognizers
COPY connectors /src/connectors
COPY scripts/healthcheck.py /opt/scrubber/bin/scrubber-healthcheck
RUN /opt/scrubber/bin/pip install --quiet --no-deps --no-build-isolation /src \
 && /opt/scrubber/bin/python -m pip uninstall --quiet -y setuptools wheel pip \
 && sed -i '1s|.*|#!/opt/scrubber/bin/python|' /opt/scrubber/bin/scrubber-healthcheck \
 && chmod 0755 /opt/scrubber/bin/scrubber-healthcheck \
 # Free size: debug info, test suites, and the word lists of languages the code never asks for
 # (wordfreq is called with "en" only). Only objects that carry debug info are stripped, never
 # the libraries auditwheel vendored into *.libs/ (patchelf'd: strip would break their layout).
 && find /opt/scrubber -name '*.so' -type f ! -path '*.libs/*' -exec sh -c \
      'for f; do readelf -S "$f" | grep -q "\.debug_info" && strip --strip-debug "$f"; done; true' _ {} + \
 && find /opt/scrubber/lib -depth -type d -name tests -path '*/site-packages/*/tests' -exec rm -rf {} + \
 && find /opt/scrubber/lib -path '*/wordfreq/data/*' -type f ! -name '*_en.msgpack.gz' -delete \
 && find /opt/scrubber -name '__pycache__' -type d -prune -exec rm -rf {} + \
 # Bytecode checked by hash, never by mtime: used as is on a read-only root, never rewritten.
 && /opt/scrubber/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/scrubber/lib

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG VCS_REF=unknown
ARG BUILD_DATE=unknown
ARG PYTHON_IMAGE
LABEL org.opencontainers.image.title="scrubber" \
      org.opencontainers.image.description="Streaming PII scrubbing in front of log stores and LLM gateways" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"
COPY --from=build /opt/scrubber /opt/scrubber
# /var/lib/scrubber: the working directory (a relative vault sqlite_path lands there), owned by
# the runtime user; mount a volume on it. /tmp: mount an emptyDir or tmpfs.
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin scrubber \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/scrubber
ENV PATH=/opt/scrubber/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /var/lib/scrubber
VOLUME ["/var/lib/scrubber"]
USER 10001:10001
# 9400: Prometheus metrics, /healthz, /readyz of `scrubber run`; 8080: `scrubber serve` or
# `scrubber gateway`.
EXPOSE 9400 8080
# /healthz of the mode PID 1 runs (serve, gateway: --port; run: --metrics-port): scripts/healthcheck.py.
HEALTHCHECK --interval=15s --timeout=3s --start-period=90s --retries=3 CMD ["scrubber-healthcheck"]
ENTRYPOINT ["scrubber"]
CMD ["run", "--config", "/etc/scrubber/config.yaml"]
