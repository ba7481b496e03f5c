"""Per-case data keys (crypto-shredding): the ``KeySource`` every service seals and opens applicant
data with. Intake makes a case's key when the petition is filed (committed before the data that uses
it); erasing destroys it, and every copy of that data, on the log included, can no longer be opened.

No key is kept beyond one decision or one consumer batch (``scoped``): a process that has not restarted
must not open what another erased before its next batch.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from services.platform.vault.schema import CaseKeyRow
from shared.sealing import (
    CASE_KID,
    Erased,
    Keyring,
    KeySource,
    Sealed,
    new_data_key,
    unwrap_key,
    wrap_key,
)


class CaseKeys:
    def __init__(self, sessions: sessionmaker, readers: sessionmaker, keyring: Keyring,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._readers = readers  # lookups happen inside other services' transactions: never take a writer's lock
        self._keyring = keyring
        self._clock = clock

    def prepare(self, case_id: str) -> None:
        """Make a new case's data key; called before the transaction that seals under it."""
        with self._sessions() as session:
            if session.get(CaseKeyRow, case_id) is not None:
                return
            session.add(CaseKeyRow(case_id=case_id, wrapped=wrap_key(self._keyring, new_data_key(), case_id).model_dump(),
                                   created_at=self._clock()))
            try:
                session.commit()
            except IntegrityError:  # made meanwhile by another process: that one stands
                session.rollback()

    def prepare_many(self, case_ids: list[str]) -> dict[str, bytes]:
        """New cases' data keys in one transaction (a bulk filing): one commit instead of one per case.
        Returns the keys made, so the caller seals under them without reading them back."""
        if not case_ids:
            return {}
        made = {case_id: new_data_key() for case_id in case_ids}
        with self._sessions() as session:
            for case_id, key in made.items():
                session.add(CaseKeyRow(case_id=case_id, created_at=self._clock(),
                                       wrapped=wrap_key(self._keyring, key, case_id).model_dump()))
            try:
                session.commit()
            except IntegrityError:  # fresh ids collide with nothing; should one, each is made on its own
                session.rollback()
                for case_id in case_ids:
                    self.prepare(case_id)
                return {}
        return made

    def sealing_key(self, case_id: str) -> tuple[str, bytes]:
        return self._sealing(case_id, self._row(case_id))

    def opening_key(self, kid: str, case_id: str) -> bytes:
        if kid != CASE_KID:
            return self._keyring.opening_key(kid, case_id)  # sealed before per-case keys existed
        return self._opening(case_id, self._row(case_id))

    def scoped(self, case_ids: Collection[str]) -> KeySource:
        """These cases' keys in one query per 500 cases (``ScopedKeySource``)."""
        ids = sorted(set(case_ids))
        rows: dict[str, CaseKeyRow] = {}
        with self._readers() as session:
            for i in range(0, len(ids), 500):
                rows.update((r.case_id, r) for r in session.execute(
                    select(CaseKeyRow).where(CaseKeyRow.case_id.in_(ids[i:i + 500]))).scalars())
        return _Scoped(self, frozenset(ids), rows)

    def _row(self, case_id: str) -> CaseKeyRow | None:
        with self._readers() as session:
            return session.get(CaseKeyRow, case_id)

    def _sealing(self, case_id: str, row: CaseKeyRow | None) -> tuple[str, bytes]:
        """The case's data key; a case filed before per-case keys existed has none and is sealed under
        the keyring's active key (readable, but not erasable from the log)."""
        if row is None:
            return self._keyring.sealing_key(case_id)
        return CASE_KID, self._opening(case_id, row)

    def _opening(self, case_id: str, row: CaseKeyRow | None) -> bytes:
        if row is None:
            raise Erased(f"no data key for case {case_id}")
        if row.wrapped is None:
            raise Erased(f"the personal data of case {case_id} was erased")
        return unwrap_key(self._keyring, Sealed.model_validate(row.wrapped), case_id)

    def erase(self, case_id: str, because: str) -> bool:
        """Destroy the case's data key (the row stays, as proof of when and why). False if it had none
        or was erased before."""
        with self._sessions.begin() as session:
            row = session.get(CaseKeyRow, case_id, with_for_update=True)
            if row is None:
                session.add(CaseKeyRow(case_id=case_id, wrapped=None, created_at=self._clock(),
                                       erased_at=self._clock(), erased_because=because[:200]))
                return False
            if row.wrapped is None:
                return False
            row.wrapped, row.erased_at, row.erased_because = None, self._clock(), because[:200]
            return True

    def erased(self, case_id: str) -> bool:
        with self._readers() as session:
            row = session.get(CaseKeyRow, case_id)
        return row is not None and row.wrapped is None


class _Scoped:
    """Keys of the cases read at once by ``CaseKeys.scoped`` (a case in the scope without a row has no key),
    under the vault's own rules; any other case's from the vault."""

    def __init__(self, vault: CaseKeys, scope: frozenset[str], rows: dict[str, CaseKeyRow]) -> None:
        self._vault = vault
        self._scope = scope
        self._rows = rows

    def sealing_key(self, case_id: str) -> tuple[str, bytes]:
        if case_id not in self._scope:
            return self._vault.sealing_key(case_id)
        return self._vault._sealing(case_id, self._rows.get(case_id))

    def opening_key(self, kid: str, case_id: str) -> bytes:
        if kid != CASE_KID or case_id not in self._scope:
            return self._vault.opening_key(kid, case_id)
        return self._vault._opening(case_id, self._rows.get(case_id))
