"""What a replay of many cases found: counts, and the disagreements by kind."""
from __future__ import annotations

from dataclasses import dataclass, field

from services.audit.replay import Replay


@dataclass
class Summary:
    cases: int = 0
    events: int = 0
    decisions: int = 0
    agreed: int = 0
    disagreements: dict[str, int] = field(default_factory=dict)  # "kind: problem" -> count
    disagreeing_cases: list[str] = field(default_factory=list)
    undecodable: int = 0
    undecided: dict[str, str] = field(default_factory=dict)  # case -> why the replay could not decide it

    @property
    def ok(self) -> bool:
        return not self.disagreements and not self.undecided

    def add(self, r: Replay) -> None:
        """Count one case's finished replay."""
        self.cases += 1
        if r.undecided is not None:
            self.undecided[r.case_id] = r.undecided
        self.decisions += sum(r.rederived.values())
        self.agreed += sum(r.agreed.values())
        for d in r.differences:
            key = f"{d.kind}: {d.problem}"
            self.disagreements[key] = self.disagreements.get(key, 0) + 1
        if r.differences:
            self.disagreeing_cases.append(r.case_id)

    def merge(self, other: Summary) -> None:
        """Fold in another shard's summary."""
        self.cases += other.cases
        self.events += other.events
        self.decisions += other.decisions
        self.agreed += other.agreed
        self.undecodable += other.undecodable
        self.undecided.update(other.undecided)
        for key, n in other.disagreements.items():
            self.disagreements[key] = self.disagreements.get(key, 0) + n
        self.disagreeing_cases += other.disagreeing_cases
