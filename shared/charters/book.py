"""All charter versions, and which one was in force at an instant."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from importlib import resources

from shared.charters.loader import parse_charter
from shared.charters.model import Charter
from shared.instants import to_kst


class NoCharterInForce(LookupError):
    pass


class CharterBook:
    def __init__(self, charters: Iterable[Charter]) -> None:
        self._by_id: dict[str, list[Charter]] = {}
        for c in charters:
            versions = self._by_id.setdefault(c.id, [])
            if any(v.version == c.version for v in versions):
                raise ValueError(f"charter {c.id} version {c.version} is given twice")
            if any(v.effective_from == c.effective_from for v in versions):
                raise ValueError(f"charter {c.id}: two versions take effect on {c.effective_from}")
            versions.append(c)
        for versions in self._by_id.values():
            versions.sort(key=lambda c: c.effective_from)

    @classmethod
    def bundled(cls) -> "CharterBook":
        """The charters shipped with CharterWatch (package data, read-only)."""
        folder = resources.files("shared.charters") / "data"
        charters = [
            parse_charter(entry.read_text(encoding="utf-8"), source=f"shared/charters/data/{entry.name}")
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".yaml")
        ]
        return cls(charters)

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def versions(self, charter_id: str) -> list[Charter]:
        return list(self._by_id.get(charter_id, []))

    def in_force(self, charter_id: str, instant: datetime) -> Charter:
        """The version whose effective date is the latest on or before the instant's KST date."""
        versions = self._by_id.get(charter_id)
        if not versions:
            raise NoCharterInForce(f"municipality_id: no charter for {charter_id!r}; known: {', '.join(self.ids())}")
        day = to_kst(instant).date()
        current = [c for c in versions if c.effective_from <= day]
        if not current:
            raise NoCharterInForce(
                f"charter {charter_id} has no version in force on {day} (first is {versions[0].effective_from})"
            )
        return current[-1]

    def get(self, charter_id: str, version: str) -> Charter:
        for c in self._by_id.get(charter_id, []):
            if c.version == version:
                return c
        raise NoCharterInForce(f"charter {charter_id} version {version} is unknown")
