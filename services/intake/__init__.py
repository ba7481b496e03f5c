"""Intake: the HTTP API integrating systems call; each command becomes one event on the log."""
