"""Verified API keys remembered for a short while, so a request does not look its key up in the database.

Keyed by a SHA-256 of the whole presented ``Authorization`` value (never the secret itself); only
successful checks are remembered, so a key issued a moment ago works at once. The price is that a
revoked key keeps working in a process that verified it for at most ``ttl`` seconds (30 by default):
revocation takes effect within the TTL, not at once.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

TTL_SECONDS = 30.0


class KeyCache:
    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max = max_entries  # a flood of distinct valid keys cannot grow memory without bound
        self._entries: dict[bytes, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(authorization: str) -> bytes:
        return hashlib.sha256(authorization.encode()).digest()

    def agency(self, authorization: str | None) -> str | None:
        """The agency this header was verified for within the TTL; None: verify it."""
        if not authorization:
            return None
        entry = self._entries.get(self._digest(authorization))
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def remember(self, authorization: str, agency_id: str) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                now = self._clock()
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                if len(self._entries) >= self._max:
                    self._entries.clear()
            self._entries[self._digest(authorization)] = (agency_id, self._clock() + self._ttl)
