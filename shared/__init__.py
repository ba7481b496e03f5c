"""CharterWatch's pure core: events, the legal clock, charters and policies.

Nothing in this package performs I/O or reads the wall clock; every instant is
passed in by the caller (usually taken from an event).
"""
