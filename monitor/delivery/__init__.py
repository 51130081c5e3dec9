"""Delivery: the outbox sent to the sinks, oldest first, exactly once, with retries, dead letters and
bursts grouped under one spike message."""
