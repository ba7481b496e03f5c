"""Placeholder until the console projection lands (issue 18, engineer B): env.py imports it."""
