"""The webhook sender: posts the recorded deliveries, at least once, in order per case and subscription.

- **Order.** Of a subscription's deliveries for one case only the oldest unsettled is ever sent; the next waits
  for its success or its giving up. Different cases (and subscriptions) are sent side by side
  (``CHARTERWATCH_WEBHOOKS_CONCURRENCY``).
- **Claim, send, settle.** A delivery is claimed by moving its next attempt a lease ahead (so a second sender
  process skips it, and a sender killed mid-send retries it when the lease ends), posted, then settled in its
  own transaction: the attempt recorded with its status code or its error class (never the response body).
  A kill between the post and the settlement repeats the post: at least once; receivers deduplicate by
  ``webhook-id``.
- **Retries.** A failed attempt is tried again after an exponential backoff with full jitter: a random delay
  between 0 and 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then 8 h for each later attempt, for as long as
  the retry window (``CHARTERWATCH_WEBHOOKS_RETRY_HOURS``, 24 h from the first attempt) lasts; then the delivery
  is failed (given up) and the case's next one goes.
- **Disabling.** A subscription with no successful delivery since its first failure
  ``CHARTERWATCH_WEBHOOKS_DISABLE_AFTER_DAYS`` (3) days ago is disabled, and a notice is kept for its agency
  (``GET /v1/webhook-notices``). Its deliveries keep being recorded; enabling it sends them.
- **Targets.** Each attempt resolves the host again and checks every address (``services.webhooks.targets``),
  connects to the checked address, follows no redirect (a 3xx is a failure), reads at most 1 KiB of the
  answer and discards it.
"""
from __future__ import annotations

import random
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from services.platform.logs import get_logger
from services.webhooks import store, targets
from services.webhooks.metrics import WebhookMetrics
from services.webhooks.orm import AttemptRow, DeliveryRow, SubscriptionRow
from services.webhooks.payload import headers
from shared.sealing import KeySource, SealingError

log = get_logger("webhooks")
Clock = Callable[[], datetime]
SCHEDULE = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800)  # seconds: the cap of each retry's delay
LEASE = timedelta(minutes=5)
READ_CAP = 1024


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


def full_jitter(cap: float) -> float:
    return random.uniform(0, cap)


def _tls(exc: BaseException) -> bool:
    """A TLS failure (a certificate that does not verify, a handshake refused) somewhere in the chain."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "SSL" in str(exc) or "certificate" in str(exc).lower()


def _delivery(session: Session, delivery_id: str) -> DeliveryRow | None:
    return session.execute(select(DeliveryRow).where(DeliveryRow.delivery_id == delivery_id)).scalar_one_or_none()


@dataclass(frozen=True)
class Policy:
    retry_window: timedelta = timedelta(hours=24)
    disable_after: timedelta = timedelta(days=3)
    schedule: tuple[int, ...] = SCHEDULE
    jitter: Callable[[float], float] = full_jitter
    timeout_s: float = 10.0

    def cap(self, failed_attempts: int) -> float:
        """The longest delay after the ``failed_attempts``-th failure."""
        return float(self.schedule[min(failed_attempts, len(self.schedule)) - 1])


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None  # None: delivered (2xx)
    duration_ms: int


@dataclass
class Sender:
    sessions: sessionmaker
    keys: KeySource
    clock: Clock  # schedules (a drill's or a test's clock moves it)
    allow_private: bool = False
    policy: Policy = field(default_factory=Policy)
    concurrency: int = 4
    resolver: Callable[[str, int], list[str]] | None = None  # default: targets.resolve, looked up at each attempt
    wall: Clock = wall_clock  # the signature's timestamp: always the real time, which receivers check
    verify: ssl.SSLContext | bool = True  # TLS: the system's CAs (tests give a context trusting their own)
    poll_s: float = 1.0
    batch: int = 100
    stopping: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    sent: int = 0
    metrics: WebhookMetrics = field(default_factory=WebhookMetrics)

    # -- the loop ------------------------------------------------------------------------------------
    def run(self) -> None:
        while not self.stopping.is_set():
            if self.send_due() == 0:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def send_due(self) -> int:
        """One pass: disable what has failed too long, then send every due delivery at the head of its case.
        Returns the attempts made."""
        now = self.clock()
        self.disable_failing(now)
        due = self._due(now)
        if self.concurrency <= 1 or len(due) <= 1:
            return sum(self._claim_and_attempt(d) for d in due)
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(due))) as pool:
            return sum(pool.map(self._claim_and_attempt, due))

    def _claim_and_attempt(self, delivery_id: str) -> int:
        """Claimed just before it is sent (so the lease covers the send, not a queue), then sent and settled."""
        if self.stopping.is_set() or not self._claim(delivery_id, self.clock()):
            return 0
        self._attempt(delivery_id)
        return 1

    def send_all_due(self, passes: int = 50) -> int:
        """Passes until nothing is due now (tests, drills): a case's next delivery goes in the next pass."""
        total = 0
        for _ in range(passes):
            n = self.send_due()
            total += n
            if n == 0:
                break
        return total

    # -- choosing ------------------------------------------------------------------------------------
    def _due(self, now: datetime) -> list[str]:
        earlier = aliased(DeliveryRow)
        blocked = exists().where(and_(earlier.webhook_id == DeliveryRow.webhook_id,
                                      earlier.case_id == DeliveryRow.case_id, earlier.status == "pending",
                                      earlier.seq < DeliveryRow.seq))
        q = (select(DeliveryRow.delivery_id)
             .join(SubscriptionRow, SubscriptionRow.webhook_id == DeliveryRow.webhook_id)
             .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now,
                    SubscriptionRow.enabled.is_(True), ~blocked)
             .order_by(DeliveryRow.seq).limit(self.batch))
        with self.sessions() as session:
            return list(session.execute(q).scalars())

    def _claim(self, delivery_id: str, now: datetime) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(update(DeliveryRow).where(
                DeliveryRow.delivery_id == delivery_id, DeliveryRow.status == "pending",
                DeliveryRow.next_attempt_at <= now).values(next_attempt_at=now + LEASE))
            return result.rowcount == 1  # type: ignore[attr-defined]

    # -- one attempt ---------------------------------------------------------------------------------
    def _attempt(self, delivery_id: str) -> None:
        try:
            with self.sessions() as session:
                d = _delivery(session, delivery_id)
                if d is None:
                    return  # its subscription was deleted meanwhile
                sub = session.get(SubscriptionRow, d.webhook_id)
                if sub is None:
                    return
                url, event_id, data = sub.url, d.event_id, bytes(d.body)
                rows = store.secrets_in_force(session, d.webhook_id, self.clock())
            try:
                secrets = [store.open_secret(self.keys, r) for r in rows]
            except SealingError:
                secrets = []
            outcome = (self._post(url, event_id, data, secrets) if secrets
                       else Outcome(None, "secret_unavailable", 0))
        except Exception:  # a bug must not leave the delivery leased forever: recorded as an internal error
            log.exception("webhook_attempt_crashed", delivery_id=delivery_id)
            outcome = Outcome(None, "internal_error", 0)
        self._settle(delivery_id, outcome)

    def _post(self, url: str, event_id: str, data: bytes, secrets: list[str]) -> Outcome:
        started = time.monotonic()

        def done(status: int | None, error: str | None) -> Outcome:
            return Outcome(status, error, int((time.monotonic() - started) * 1000))

        try:
            target, addresses = targets.check(url, self.allow_private, self.resolver or targets.resolve)
        except targets.TargetRefused as exc:
            log.warning("webhook_target_refused", reason=str(exc))
            return done(None, "target_refused")
        timestamp = int(self.wall().timestamp())
        timeout = httpx.Timeout(self.policy.timeout_s, connect=min(5.0, self.policy.timeout_s))
        transport = targets.PinnedTransport(addresses[0], verify=self.verify, retries=0)
        try:
            with httpx.Client(transport=transport, follow_redirects=False, trust_env=False, timeout=timeout) as client:
                request = client.build_request("POST", target.url, content=data,
                                               headers=headers(event_id, timestamp, data, secrets))
                response = client.send(request, stream=True)
                try:
                    read = 0
                    for chunk in response.iter_raw():
                        read += len(chunk)
                        if read >= READ_CAP:
                            break
                finally:
                    response.close()
        except httpx.TimeoutException:
            return done(None, "timeout")
        except httpx.ConnectError as exc:
            return done(None, "tls_error" if _tls(exc) else "connect_error")
        except httpx.HTTPError:
            return done(None, "transport_error")
        status = response.status_code
        if 200 <= status < 300:
            return done(status, None)
        kind = "redirect_not_followed" if 300 <= status < 400 else ("http_4xx" if status < 500 else "http_5xx")
        return done(status, kind)

    def _settle(self, delivery_id: str, outcome: Outcome) -> None:
        settled = self._record(delivery_id, outcome)
        if settled is not None:  # committed: counted
            self.metrics.attempted(settled, outcome.error, outcome.duration_ms)

    def _record(self, delivery_id: str, outcome: Outcome) -> str | None:
        """The attempt recorded; returns what it settled: succeeded, retry or failed (None: no such delivery)."""
        now = self.clock()
        with self.sessions.begin() as session:
            d = _delivery(session, delivery_id)
            if d is None:
                return None
            sub = session.get(SubscriptionRow, d.webhook_id)
            d.attempts += 1
            d.first_attempt_at = d.first_attempt_at or now
            d.last_attempt_at, d.last_status_code, d.last_error = now, outcome.status_code, outcome.error
            session.add(AttemptRow(delivery_id=delivery_id, attempt=d.attempts, at=now,
                                   status_code=outcome.status_code, error=outcome.error,
                                   duration_ms=outcome.duration_ms))
            if outcome.error is None:
                d.status, d.next_attempt_at, d.settled_at = "succeeded", None, now
                if sub is not None:
                    sub.failing_since, sub.last_success_at = None, now
                self.sent += 1
                log.info("webhook_delivered", delivery_id=delivery_id, case_id=d.case_id, attempts=d.attempts,
                         status_code=outcome.status_code)
                return "succeeded"
            if sub is not None and sub.failing_since is None:
                sub.failing_since = now
            delay = timedelta(seconds=max(0.0, min(self.policy.jitter(self.policy.cap(d.attempts)),
                                                   self.policy.cap(d.attempts))))
            if now + delay > d.first_attempt_at + self.policy.retry_window:
                d.status, d.next_attempt_at, d.settled_at = "failed", None, now
                settled = "failed"
                log.warning("webhook_given_up", delivery_id=delivery_id, case_id=d.case_id, attempts=d.attempts,
                            error=outcome.error, status_code=outcome.status_code)
            else:
                d.next_attempt_at = now + delay
                settled = "retry"
                log.info("webhook_retry_scheduled", delivery_id=delivery_id, case_id=d.case_id, attempts=d.attempts,
                         error=outcome.error, status_code=outcome.status_code, in_seconds=delay.total_seconds())
        return settled

    # -- disabling -----------------------------------------------------------------------------------
    def disable_failing(self, now: datetime) -> list[str]:
        """Subscriptions with no success since their first failure ``disable_after`` ago: disabled, noticed."""
        limit = now - self.policy.disable_after
        disabled = []
        with self.sessions.begin() as session:
            subs = session.execute(select(SubscriptionRow).where(
                SubscriptionRow.enabled.is_(True), SubscriptionRow.failing_since.is_not(None),
                SubscriptionRow.failing_since <= limit)).scalars().all()
            for sub in subs:
                days = self.policy.disable_after.total_seconds() / 86400
                since = sub.failing_since.isoformat() if sub.failing_since else "?"
                store.disable(session, sub, now, f"disabled automatically: every delivery failed since {since} "
                              f"({days:g} days or more without a success); fix the endpoint, then "
                              f"POST /v1/webhooks/{sub.webhook_id}/enable", notice=True)
                disabled.append(sub.webhook_id)
                log.warning("webhook_disabled", webhook_id=sub.webhook_id, agency_id=sub.agency_id,
                            failing_since=since)
        self.metrics.disabled.inc(len(disabled))
        return disabled
