"""SLA monitor: holds every open obligation and emits breaches the moment they fall due."""
