"""Intake's command side: case streams for optimistic concurrency, idempotency keys, API keys."""
