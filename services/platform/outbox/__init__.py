"""The transactional outbox: events decided in a database transaction, published to the log after it commits."""
