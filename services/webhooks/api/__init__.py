"""The webhooks HTTP API (subscriptions, secrets, the delivery log)."""
