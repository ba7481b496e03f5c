"""The console's clients of the other services' HTTP APIs (compensation, audit).

The console never writes another service's tables: an approval, a rejection, a batch go through
that service's API and its rules. It calls them as the signed-in user's agency, with an API key it
issues itself for that agency on first need (label ``console``) and keeps in memory only. At its
start the console revokes the keys earlier runs issued: their plaintext died with those processes,
so no live key is left without a holder. If another console process revoked ours (two replicas
started one after the other), the 401 makes us issue a fresh one and try once more.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from services.platform.access.keys import issue_key, revoke_key
from services.platform.access.orm import ApiKeyRow
from services.platform.logs import get_logger

log = get_logger("console")
LABEL = "console"


class ServiceError(Exception):
    """Another service refused or failed: its HTTP status and its problem detail (RFC 9457), if any."""

    def __init__(self, status: int, detail: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.problem = problem or {}


class ServiceUnavailable(ServiceError):
    """The service could not be reached (it is down, or the console points at the wrong port)."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail)


@dataclass
class AgencyKeys:
    """One API key per agency, issued by the console for itself; plaintext in memory only."""

    access: sessionmaker  # the access module's writer sessions
    clock: Callable[[], datetime]
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def revoke_earlier(self) -> int:
        """At the console's start: revoke every key an earlier console process issued (their plaintext
        died with it). A key this process issued is kept."""
        now = self.clock()
        with self._lock, self.access.begin() as session:
            mine = {t.partition(".")[0].removeprefix("cw_") for t in self._tokens.values()}
            rows = session.execute(select(ApiKeyRow.key_id).where(
                ApiKeyRow.label == LABEL, ApiKeyRow.revoked_at.is_(None))).scalars().all()
            earlier = [k for k in rows if k not in mine]
            for key_id in earlier:
                revoke_key(session, key_id, now)
        if earlier:
            log.info("console_api_keys_revoked", revoked=len(earlier))
        return len(earlier)

    def token(self, agency_id: str) -> str:
        with self._lock:
            if agency_id not in self._tokens:
                self._tokens[agency_id] = self._issue(agency_id)
            return self._tokens[agency_id]

    def renew(self, agency_id: str, refused: str) -> str:
        """A new key after ``refused`` was answered 401 (revoked by another console process)."""
        with self._lock:
            if self._tokens.get(agency_id) == refused:
                self._tokens[agency_id] = self._issue(agency_id)
            return self._tokens[agency_id]

    def _issue(self, agency_id: str) -> str:
        with self.access.begin() as session:
            issued = issue_key(session, agency_id, self.clock(), label=LABEL)
        log.info("console_api_key_issued", agency_id=agency_id, key_id=issued.key_id)
        return issued.token


class _Client:
    def __init__(self, keys: AgencyKeys, base_url: str | None = None, http: httpx.Client | None = None,
                 timeout_s: float = 30.0) -> None:
        """``http``: a ready client (tests pass a FastAPI TestClient of the other service's app);
        otherwise one is made for ``base_url``."""
        if http is None and base_url is None:
            raise ValueError("give base_url or http")
        self.keys = keys
        self.http = http or httpx.Client(base_url=base_url or "", timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def _request(self, agency_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        token = self.keys.token(agency_id)
        response = self._send(token, method, path, **kwargs)
        if response.status_code == 401:
            response = self._send(self.keys.renew(agency_id, token), method, path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _send(self, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"{type(self).__name__}: {type(exc).__name__}") from exc


def _error(response: httpx.Response) -> ServiceError:
    problem: dict[str, Any] = {}
    try:
        body = response.json()
        if isinstance(body, dict):
            problem = body
    except ValueError:
        pass
    detail = problem.get("detail") or response.reason_phrase or "error"
    return ServiceError(response.status_code, str(detail), problem)


def _seg(value: str) -> str:
    """One path segment, escaped: an id from a form can never walk to another path."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if set(value) <= {"."} else quoted  # '..' would be resolved as a path step


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class CompensationClient(_Client):
    """The compensation API (services/compensation/api/routes.py). Answers are its JSON, as dicts."""

    def list_vouchers(self, agency_id: str, *, status: str | None = None, cause: str | None = None,
                      case_id: str | None = None, batch_month: str | None = None, official_id: str | None = None,
                      cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
        """One page: ``{"items": [voucher...], "next_cursor": str | None}``."""
        return self._request(agency_id, "GET", "/v1/vouchers", params=_params(
            status=status, cause=cause, case_id=case_id, batch_month=batch_month, official_id=official_id,
            cursor=cursor, limit=limit)).json()  # type: ignore[no-any-return]

    def all_vouchers(self, agency_id: str, **filters: Any) -> list[dict[str, Any]]:
        """Every page of ``list_vouchers``."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.list_vouchers(agency_id, cursor=cursor, limit=500, **filters)
            out.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def voucher(self, agency_id: str, voucher_id: str) -> dict[str, Any]:
        """One voucher with its transitions."""
        return self._request(agency_id, "GET", f"/v1/vouchers/{_seg(voucher_id)}").json()  # type: ignore[no-any-return]

    def approve(self, agency_id: str, voucher_id: str, official_id: str) -> dict[str, Any]:
        return self._request(agency_id, "POST", f"/v1/vouchers/{_seg(voucher_id)}/approval",
                             json={"official_id": official_id}).json()  # type: ignore[no-any-return]

    def reject(self, agency_id: str, voucher_id: str, official_id: str, reason: str) -> dict[str, Any]:
        return self._request(agency_id, "POST", f"/v1/vouchers/{_seg(voucher_id)}/rejection",
                             json={"official_id": official_id, "reason": reason}).json()  # type: ignore[no-any-return]

    def deliver(self, agency_id: str, voucher_id: str, official_id: str) -> dict[str, Any]:
        return self._request(agency_id, "POST", f"/v1/vouchers/{_seg(voucher_id)}/delivery",
                             json={"official_id": official_id}).json()  # type: ignore[no-any-return]

    def issue_batch(self, agency_id: str, month: str, official_id: str) -> list[dict[str, Any]]:
        """``month``: YYYY-MM. The vouchers issued."""
        return self._request(agency_id, "POST", f"/v1/voucher-batches/{_seg(month)}/issue",
                             json={"official_id": official_id}).json()  # type: ignore[no-any-return]

    def batch_csv(self, agency_id: str, month: str) -> bytes:
        """The month's batch as CSV (UTF-8 with BOM), as the compensation API writes it."""
        return self._request(agency_id, "GET", f"/v1/voucher-batches/{_seg(month)}.csv").content

    def strikes(self, agency_id: str, official_id: str | None = None) -> list[dict[str, Any]]:
        """``[{"official_id", "strikes", "withdrawn"}]`` of the agency's officials."""
        return self._request(agency_id, "GET", "/v1/strikes",
                             params=_params(official_id=official_id)).json()  # type: ignore[no-any-return]


class AuditClient(_Client):
    """The audit API (services/audit/api.py): a case's replay report."""

    def case_report(self, agency_id: str, case_id: str, format: Literal["json", "html", "pdf"] = "json",  # noqa: A002
                    as_of: datetime | None = None) -> Any:
        """JSON: the report as a dict; html: str; pdf: bytes. 404 (``ServiceError``) for another
        agency's case, the same as for none; 503 for a PDF this server cannot typeset."""
        response = self._request(agency_id, "GET", f"/v1/audit/cases/{_seg(case_id)}", params=_params(
            format=format, as_of=as_of.isoformat() if as_of else None))
        if format == "json":
            return response.json()
        return response.text if format == "html" else response.content
