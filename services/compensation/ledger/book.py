"""The ledger: the core's remedy decider (``shared.compensation.remedies``) run inside a caller's
transaction, over the ledger's tables, with every event it decides queued in the outbox.

``SqlLedgerState`` is the core's ``LedgerState`` over those tables. Every write that could be
repeated (redelivery, a second consumer racing) is an insert of a row whose key is derived from
its cause: the loser of a race fails on the table's uniqueness rule at commit, rolls back and
emits nothing; its replay then finds the row.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session

from services.compensation.ledger.orm import (
    CaseAccessRow,
    CompensationCaseRow,
    OfficialLockRow,
    RemedyActionRow,
    StrikeRow,
    VoucherRow,
    VoucherTransitionRow,
)
from services.compensation.schema import FindingOutboxRow, OutboxRow
from shared.charters import CharterBook
from shared.compensation.remedies import Remedies
from shared.compensation.state import CompensationCase, RemedyAction, Strike
from shared.compensation.voucher import (
    Step,
    TransitionRefused,
    Voucher,
    VoucherNotFound,
)
from shared.events import Envelope, encode
from shared.events.findings import StrikeRecorded, StrikeWithdrawn
from shared.working_time import WorkingCalendar

FINDINGS = (StrikeRecorded, StrikeWithdrawn)
__all__ = ["Ledger", "SqlLedgerState", "TransitionRefused", "VoucherNotFound", "strike_counts"]

_COLUMNS = tuple(f.name for f in fields(Voucher))  # a voucher's row has one column per field of the value
# What a transition may change on a voucher's row; the rest is fixed at its proposal.
_MUTABLE = ("amount_won", "settled", "status", "batch_month", "approved_at", "approved_by", "issued_at",
            "delivered_at", "cancelled_at", "cancel_reason")


class Ledger:
    def __init__(self, charters: CharterBook, calendar: WorkingCalendar) -> None:
        self.charters = charters
        self.calendar = calendar
        # strikes leave as findings (keyed by official) for the strike counter: they cross cases
        self.remedies = Remedies(charters, calendar, count_inline=False)

    # -- incoming events ---------------------------------------------------------
    def record(self, session: Session, env: Envelope, now: datetime) -> list[Envelope]:
        """Apply one petition or SLA event. Returns the events queued in the outbox."""
        return self._queue(session, self.remedies.record(SqlLedgerState(session), env, now))

    # -- officials' decisions (HTTP) ---------------------------------------------
    def voucher(self, session: Session, voucher_id: str) -> VoucherRow:
        row = session.get(VoucherRow, voucher_id, with_for_update=True)
        if row is None:
            raise VoucherNotFound(voucher_id)
        return row

    def approve(self, session: Session, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        return self._queue(session, self.remedies.approve(SqlLedgerState(session), voucher_id, official_id, now))

    def reject(self, session: Session, voucher_id: str, official_id: str, reason: str, now: datetime) -> list[Envelope]:
        return self._queue(session, self.remedies.reject(SqlLedgerState(session), voucher_id, official_id, reason,
                                                         now))

    def deliver(self, session: Session, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        return self._queue(session, self.remedies.deliver(SqlLedgerState(session), voucher_id, official_id, now))

    def issue_one(self, session: Session, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        """One voucher of a monthly batch (what ``issue_batch`` does for each)."""
        return self._queue(session, self.remedies.issue_one(SqlLedgerState(session), voucher_id, official_id, now))

    def issue_batch(self, session: Session, month: str, official_id: str, now: datetime,
                    visible: Callable[[str], bool]) -> list[Envelope]:
        return self._queue(session, self.remedies.issue_batch(SqlLedgerState(session), month, official_id, now,
                                                              visible))

    # -- events --------------------------------------------------------------------
    def _queue(self, session: Session, events: list[Envelope]) -> list[Envelope]:
        """The one place the ledger writes to its outboxes: committed with the ledger's rows. A finding
        (a strike) goes to the findings topic, keyed by its official (its envelope's key)."""
        for env in events:
            table = FindingOutboxRow if isinstance(env.payload, FINDINGS) else OutboxRow
            _pending(session, table).append({"event_id": str(env.event_id), "case_id": env.case_id,
                                             "value": encode(env), "published": False})
        decided = session.info.pop("ledger_inserts", {})
        if session.info.get(_DEFER) and not session.in_nested_transaction():
            # a consumer batch without savepoints: the whole batch's rows in one insert per table at its
            # commit (a refused event reruns the batch in a new transaction, so nothing here is half-kept)
            for table, values in decided.items():
                session.info.setdefault(_DEFERRED, {}).setdefault(table, []).extend(values)
            return events
        _insert(session, decided)  # one multi-row insert per table for the whole decision, in the order decided
        return events


class SqlLedgerState:
    """The core's ``LedgerState`` over the ledger's tables, inside the caller's transaction.

    A row added in this transaction is found before it is flushed (``session.info``), so a
    lookup need not flush every pending row one statement at a time."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- cases -----------------------------------------------------------------------
    def case(self, case_id: str) -> CompensationCase | None:
        row = case_row(self.session, case_id)
        if row is None:
            return None
        return CompensationCase(row.case_id, row.agency_id, row.charter_id, row.charter_version, row.resolved_at,
                                row.handling_agency, row.official_id, row.petition_version)

    def add_case(self, case: CompensationCase) -> None:
        _add(self.session, CompensationCaseRow(case_id=case.case_id, agency_id=case.agency_id,
                                               charter_id=case.charter_id, charter_version=case.charter_version,
                                               resolved_at=case.resolved_at, handling_agency=case.handling_agency,
                                               official_id=case.official_id, petition_version=case.petition_version))

    def save_case(self, case: CompensationCase) -> None:
        row = case_row(self.session, case.case_id)
        assert row is not None
        row.resolved_at, row.handling_agency = case.resolved_at, case.handling_agency
        row.official_id, row.petition_version = case.official_id, case.petition_version

    # -- vouchers --------------------------------------------------------------------
    def voucher(self, voucher_id: str) -> Voucher | None:
        row = self.session.get(VoucherRow, voucher_id, with_for_update=True)
        return None if row is None else _voucher(row)

    def voucher_for(self, case_id: str, cause: str) -> Voucher | None:
        known = _batch(self.session).vouchers_of(case_id)
        if known is not None:
            return next((_voucher(r) for r in known if r.cause == cause), None)
        row = self.session.execute(select(VoucherRow).where(VoucherRow.case_id == case_id, VoucherRow.cause == cause)
                                   ).scalar_one_or_none()
        return None if row is None else _voucher(row)

    def unsettled(self, case_id: str) -> list[Voucher]:
        known = _batch(self.session).vouchers_of(case_id)
        if known is not None:
            return [_voucher(r) for r in known if r.settled is False and r.status == "proposed"]
        rows = self.session.execute(select(VoucherRow).where(VoucherRow.case_id == case_id,
                                                             VoucherRow.settled.is_(False),
                                                             VoucherRow.status == "proposed")).scalars()
        return [_voucher(r) for r in rows]

    def batch(self, month: str) -> list[Voucher]:
        rows = self.session.execute(select(VoucherRow).where(VoucherRow.status == "approved",
                                                             VoucherRow.batch_month == month)
                                    .order_by(VoucherRow.voucher_id).with_for_update()).scalars()
        return [_voucher(r) for r in rows]

    def add_voucher(self, step: Step) -> None:
        row = VoucherRow(**{name: getattr(step.voucher, name) for name in _COLUMNS})
        _add(self.session, row)
        known = _batch(self.session).vouchers_of(row.case_id)
        if known is not None:
            known.append(row)
        self._history(step)

    def save_voucher(self, step: Step) -> None:
        row = _row(self.session, VoucherRow, step.voucher.voucher_id)
        assert row is not None
        for name in _MUTABLE:
            value = getattr(step.voucher, name)
            if getattr(row, name) != value:  # an unchanged instant keeps the row's own (read back in KST)
                setattr(row, name, value)
        self._history(step)

    def _history(self, step: Step) -> None:
        """Every state a voucher passed through, with who moved it: the ledger is never rewritten."""
        v = step.voucher
        _pending(self.session, VoucherTransitionRow).append({
            "event_id": str(step.event_id), "voucher_id": v.voucher_id, "status": v.status, "at": step.at,
            "actor": step.actor, "amount_won": v.amount_won, "reason": step.reason})

    # -- apologies, retraining orders, referrals --------------------------------------
    def has_action(self, action_id: str, case_id: str | None = None) -> bool:
        return _row(self.session, RemedyActionRow, action_id, case_id=case_id) is not None

    def add_action(self, action: RemedyAction) -> None:
        _add(self.session, RemedyActionRow(action_id=action.action_id, kind=action.kind, case_id=action.case_id,
                                           official_id=action.official_id, cause=action.cause,
                                           cause_event_id=action.cause_event_id, promise_id=action.promise_id,
                                           at=action.at))

    # -- strikes ---------------------------------------------------------------------
    def has_strike(self, event_id: str) -> bool:
        return _row(self.session, StrikeRow, event_id) is not None

    def add_strike(self, strike: Strike) -> None:
        _add(self.session, StrikeRow(event_id=strike.event_id, agency_id=strike.agency_id,
                                     official_id=strike.official_id, case_id=strike.case_id,
                                     confirmed_at=strike.confirmed_at, withdrawn_at=strike.withdrawn_at))

    def latest_strike(self, case_id: str) -> Strike | None:
        row = self.session.execute(select(StrikeRow).where(StrikeRow.case_id == case_id,
                                                           StrikeRow.withdrawn_at.is_(None))
                                   .order_by(StrikeRow.confirmed_at.desc())).scalars().first()
        return None if row is None else Strike(row.event_id, row.agency_id, row.official_id, row.case_id,
                                               row.confirmed_at, row.withdrawn_at)

    def save_strike(self, strike: Strike) -> None:
        row = _row(self.session, StrikeRow, strike.event_id)
        assert row is not None
        row.withdrawn_at = strike.withdrawn_at

    def strikes_in_window(self, agency_id: str, official_id: str, since: datetime | None,
                          until: datetime) -> list[str]:
        _lock_official(self.session, agency_id, official_id)
        query = select(StrikeRow.event_id).where(StrikeRow.agency_id == agency_id, StrikeRow.official_id == official_id,
                                                 StrikeRow.withdrawn_at.is_(None), StrikeRow.confirmed_at <= until)
        if since is not None:
            query = query.where(StrikeRow.confirmed_at > since)
        return list(self.session.execute(query.order_by(StrikeRow.confirmed_at)).scalars())


    def later_strikes(self, strike: Strike, until: datetime | None) -> list[Strike]:
        """Not counted here (the strike counter counts, by official): what the ledger recorded, for the port."""
        query = select(StrikeRow).where(StrikeRow.agency_id == strike.agency_id,
                                        StrikeRow.official_id == strike.official_id, StrikeRow.withdrawn_at.is_(None),
                                        StrikeRow.event_id != strike.event_id,
                                        StrikeRow.confirmed_at >= strike.confirmed_at)
        if until is not None:
            query = query.where(StrikeRow.confirmed_at <= until)
        return [Strike(r.event_id, r.agency_id, r.official_id, r.case_id, r.confirmed_at, r.withdrawn_at)
                for r in self.session.execute(query.order_by(StrikeRow.confirmed_at)).scalars()]


def _pending(session: Session, model: type) -> list[dict[str, Any]]:
    """Rows only ever inserted (outbox, voucher history), kept until the decision is queued (``_queue``) and
    then inserted straight on the transaction's connection: neither the unit of work's cost per object
    nor a flush of what the session holds (a batch's ledger rows are flushed together at its end)."""
    return session.info.setdefault("ledger_inserts", {}).setdefault(model, [])


def _voucher(row: VoucherRow) -> Voucher:
    return Voucher(**{name: getattr(row, name) for name in _COLUMNS})


class BatchRows:
    """The rows of a consumer batch's cases, read at its start in a few queries (``prefetch``): a lookup of
    one of those cases is answered here, found or not, instead of one query per lookup. Kept in the
    session (``session.info``), so it ends with the transaction; dropped (``forget``) when a savepoint rolls
    back, since what was added inside it is gone."""

    def __init__(self) -> None:
        self.cases: set[str] = set()
        self.rows: dict[tuple[type, tuple[str, ...]], Any] = {}
        self.vouchers: dict[str, list[VoucherRow]] = {}

    def knows(self, case_id: str | None) -> bool:
        return case_id is not None and case_id in self.cases

    def vouchers_of(self, case_id: str) -> list[VoucherRow] | None:
        return self.vouchers.setdefault(case_id, []) if case_id in self.cases else None


_PER_QUERY = 400  # case ids per IN (...): under every database's limit on bound parameters


def _batch(session: Session) -> BatchRows:
    batch = session.info.get("ledger_batch")
    if batch is None:
        batch = session.info["ledger_batch"] = BatchRows()
    return batch


_DEFER = "ledger_defer"
_DEFERRED = "ledger_deferred"


def defer_inserts(session: Session) -> None:
    """For a consumer batch: the outbox and history rows its decisions queue are inserted once, at the
    commit, in the order decided, instead of once per decision (those inside a savepoint still go at once:
    its rollback must not take the rows of the decisions before it)."""
    if session.info.get(_DEFER):
        return
    session.info[_DEFER] = True
    event.listen(session, "before_commit", _insert_deferred)


def _insert_deferred(session: Session) -> None:
    _insert(session, session.info.pop(_DEFERRED, {}))


def _insert(session: Session, rows: dict[type, list[dict[str, Any]]]) -> None:
    for table, values in rows.items():
        session.connection().execute(insert(table.__table__), values)


def prefetch(session: Session, case_ids: Collection[str]) -> None:
    """Read every ledger row of these cases now: the batch's lookups of them then cost no query."""
    batch = _batch(session)
    ids = sorted(set(case_ids) - batch.cases)
    for i in range(0, len(ids), _PER_QUERY):
        chunk = ids[i:i + _PER_QUERY]
        for model in (CompensationCaseRow, RemedyActionRow, CaseAccessRow):
            for row in session.execute(select(model).where(model.case_id.in_(chunk))).scalars():
                batch.rows[(model, tuple(inspect(row).mapper.primary_key_from_instance(row)))] = row
        for v in session.execute(select(VoucherRow).where(VoucherRow.case_id.in_(chunk))).scalars():
            batch.rows[(VoucherRow, (v.voucher_id,))] = v
            batch.vouchers.setdefault(v.case_id, []).append(v)
        batch.cases.update(chunk)


def forget(session: Session) -> None:
    """A savepoint rolled back: what this transaction added, and read, is no longer to be trusted."""
    session.info.pop("ledger_added", None)
    session.info.pop("ledger_batch", None)
    session.info.pop("ledger_inserts", None)


def case_row(session: Session, case_id: str) -> CompensationCaseRow | None:
    return _row(session, CompensationCaseRow, case_id, case_id=case_id)


def grant_access(session: Session, case_id: str, agency_id: str) -> None:
    """The agency may see and act on the case's remedies (kept once)."""
    if _row(session, CaseAccessRow, case_id, agency_id, case_id=case_id) is None:
        _add(session, CaseAccessRow(case_id=case_id, agency_id=agency_id))


def _row(session: Session, model: type, *key: str, case_id: str | None = None) -> Any:
    """The row with this key (its primary key's columns, in order): added in this transaction, or stored
    before; None if neither. ``case_id``: the row's case, if the caller knows it (a prefetched case is
    answered without a query)."""
    row = session.info.get("ledger_added", {}).get((model, key))
    if row is not None:
        return row
    batch = session.info.get("ledger_batch")
    if batch is not None and batch.knows(case_id):
        return batch.rows.get((model, key))
    with session.no_autoflush:  # a lookup must not flush every pending row one statement at a time
        return session.get(model, key if len(key) > 1 else key[0])


def _add(session: Session, row: object) -> None:
    """Add a row whose key is derived from its cause (the caller found none). Two consumers racing
    both add it: the second commit fails on the table's uniqueness rule and the worker replays
    its batch, which then finds it."""
    pk = inspect(row).mapper.primary_key_from_instance(row)
    session.add(row)
    session.info.setdefault("ledger_added", {})[(type(row), tuple(pk))] = row


def _inserted(session: Session, row: object) -> bool:
    """``_add`` unless a row with its key exists already; False then."""
    pk = inspect(row).mapper.primary_key_from_instance(row)
    if _row(session, type(row), *pk) is not None:
        return False
    _add(session, row)
    return True


def _lock_official(session: Session, agency_id: str, official_id: str) -> None:
    _inserted(session, OfficialLockRow(agency_id=agency_id, official_id=official_id))
    session.flush()
    session.execute(select(OfficialLockRow).where(OfficialLockRow.agency_id == agency_id,
                                                  OfficialLockRow.official_id == official_id).with_for_update())


def strike_counts(session: Session, agency_id: str, official_id: str | None = None) -> list[tuple[str, int, int]]:
    """(official, confirmed strikes, withdrawn strikes) per official of ``agency_id``: another agency's
    official of the same id is someone else, and not this agency's to see."""
    query = (select(StrikeRow.official_id, func.count(StrikeRow.event_id), func.count(StrikeRow.withdrawn_at))
             .where(StrikeRow.agency_id == agency_id)
             .group_by(StrikeRow.official_id).order_by(StrikeRow.official_id))
    if official_id is not None:
        query = query.where(StrikeRow.official_id == official_id)
    return [(o, total - withdrawn, withdrawn) for o, total, withdrawn in session.execute(query)]
