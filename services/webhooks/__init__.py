"""Webhooks: each event of an agency's cases pushed to the URLs it subscribed, signed per the Standard Webhooks
specification (docs/webhooks.md)."""
