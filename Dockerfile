# Complaint monitor: one service process; config and data are volumes.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY connectors ./connectors
COPY alerts ./alerts
RUN pip install ".[postgres]" \
 && useradd --system --uid 10001 --home /app monitor \
 && mkdir -p /data /config && chown monitor /data

COPY --chown=monitor config.yaml /config/config.yaml
USER monitor
WORKDIR /data
VOLUME ["/data", "/config"]
ENV MONITOR_CONFIG=/config/config.yaml
# The ops endpoint (enable service.http with host 0.0.0.0 in the config to reach it from outside).
EXPOSE 9464
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]
