"""Running it unattended: the health and metrics endpoint, Prometheus metrics, logging and secret redaction."""
