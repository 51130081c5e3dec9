"""The ingest pipeline: each poll reads a source, normalizes and filters by brand, drops duplicates,
scores, routes complaints and stores mentions with their alerts in one transaction."""
