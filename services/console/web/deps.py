"""What the console's web application is given by the composition root (nothing is built at import)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.console.clients import AgencyKeys, AuditClient, CompensationClient
from services.platform.db.database import Database


@dataclass
class Console:
    """``db``: the console's own database (accounts, sessions, and the projection it reads from the
    log); ``clock``: now, as the container gives it (tests drive it); ``secure_cookies``: the session
    cookie is marked Secure even on a plain-http request (the console behind a TLS-terminating proxy
    that does not say so)."""

    db: Database
    clock: Callable[[], datetime]
    compensation: CompensationClient
    audit: AuditClient
    keys: AgencyKeys
    secure_cookies: bool = False
    max_body_bytes: int = 256 * 1024
