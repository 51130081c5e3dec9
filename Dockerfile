# Complaint monitor: one service process. Mount your config over /app/config.yaml and keep
# /app/data (SQLite, digests) on a volume. Without a mounted config it runs the bundled demo.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
# The libraries first, exact versions checked against the lock file's hashes (a layer that survives code edits).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY connectors ./connectors
COPY alerts ./alerts
COPY replies ./replies
RUN pip install --no-deps . \
 && useradd --system --uid 10001 --home /app monitor \
 && mkdir -p /app/data && chown monitor /app/data
COPY config.yaml ./
COPY samples ./samples

USER monitor
VOLUME ["/app/data"]
ENV MONITOR_CONFIG=/app/config.yaml
# The ops endpoint (set service.http.enabled and host 0.0.0.0 in the config to reach it from outside), and the
# web inbox (web.enabled, web.listen 0.0.0.0:8090, behind a proxy that terminates TLS).
EXPOSE 9464 8090
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]
