"""Audit: the hash chain of each case's stream, and the replay that re-derives every decision."""
