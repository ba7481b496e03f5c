"""Named points where a test makes the process die as ``kill -9`` would, to prove a step is safe.

Inert unless ``CHARTERWATCH_FAILPOINT`` names the point: production never sets it.
"""
from __future__ import annotations

import os


def failpoint(name: str) -> None:
    if os.environ.get("CHARTERWATCH_FAILPOINT") == name:
        os._exit(137)  # no cleanup, no flush: as abrupt as SIGKILL
