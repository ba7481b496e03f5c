"""The console's statistics: pure functions over a session of its read model (``projection.orm``).

Each takes the calling ``agency_id`` first and scopes every query to it: an agency never sees another's
cases, and a case of another agency is indistinguishable from a missing one. Nothing here reads a clock:
the caller passes ``now``.
"""
