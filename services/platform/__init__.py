"""The platform layer: what every service runs on (the consumer runtime, dead letters, supervision)."""
