"""A realistic month of petitions for the console's tests, decided by the real cores: intake's rules
(``shared.petition_case.check``), the SLA monitor's obligation book and compensation's remedies, with
notify's notices standing in as NoticeSent events. Every event lands in ``World.log`` by topic, in the
order the services would have written it; the tests compute their expectations from that log alone."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel

from shared.charters import CharterBook
from shared.compensation.remedies import Remedies
from shared.compensation.state import InMemoryLedgerState
from shared.events import Envelope
from shared.events import notice as nv
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.instants import KST
from shared.obligations import ObligationBook
from shared.petition_case import CaseState, RuleViolation, apply, check
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar

CHARTERS = CharterBook.bundled()
T0 = datetime(2026, 11, 2, 9, tzinfo=KST)  # a Monday
END = datetime(2026, 12, 4, 10, tzinfo=KST)  # "now" for the statistics
TOPICS = ("petition", "sla", "compensation", "notice")
OFFICIALS = {  # agency -> (official id, name, department)
    "agency-a": [("o-a1", "김주무관", "도로과"), ("o-a2", "이주무관", "도로과"), ("o-a3", "박주무관", "건축과")],
    "agency-b": [("o-b1", "최주무관", "복지과"), ("o-b2", "정주무관", "민원과")],
}
TYPES = ["grievance", "question_system", "suggestion", "other"]


def official(agency: str, i: int) -> ev.Official:
    oid, name, dept = OFFICIALS[agency][i % len(OFFICIALS[agency])]
    return ev.Official(official_id=oid, name=name, department=dept, phone="041-000-0000", email=f"{oid}@gov.kr")


@dataclass
class Script:
    """One case: its facts in order, each checked against the petition rules before it is kept."""

    agency: str
    municipality: str
    case_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: CaseState = field(init=False)
    events: list[Envelope] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = CaseState(self.case_id)

    def add(self, payload: BaseModel, at: datetime) -> Envelope | None:
        if at > END:
            return None
        try:
            check(self.state, payload, at)
        except RuleViolation:
            return None  # the rules refuse it here (a pause open, already resolved): intake would answer 409
        charter = CHARTERS.in_force(self.municipality, at)
        env = Envelope(event_id=uuid.uuid4(), case_id=self.case_id, case_version=self.state.version + 1,
                       occurred_at=at, recorded_at=at, producer="intake", payload=payload,
                       charter=CharterRef(charter.id, charter.version))
        self.state = apply(self.state, env)
        self.events.append(env)
        return env


def working_instant(rng: random.Random, calendar: WorkingCalendar, after: datetime, days: float) -> datetime:
    """A working instant about ``days`` working days after ``after``."""
    ws = calendar.working_seconds_until(after) + int(days * 8 * 3600) + rng.randrange(0, 3600)
    return calendar.instant_at(ws)


def script(rng: random.Random, calendar: WorkingCalendar, n: int) -> Script:
    agency = "agency-b" if n % 4 == 3 else "agency-a"
    municipality = "yeonje-gu" if agency == "agency-b" else ("seongnam" if n % 7 == 5 else "dangjin")
    s = Script(agency, municipality)
    channel = "internet" if n % 5 == 1 else rng.choice(["visit", "phone"])
    received = working_instant(rng, calendar, T0, rng.uniform(0, 19))
    s.add(ev.PetitionReceived(municipality_id=municipality, agency_id=agency, petition_type=TYPES[n % len(TYPES)],
                              channel=channel, title=f"민원 {n}: 보도블록 파손", body="연락처 010-9999-0000",
                              applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="),
                              applicant_ref=f"ref-{n:04d}-" + "x" * 16, notice_channels=["sms"]), received)
    at = received
    if channel == "internet":
        at = working_instant(rng, calendar, at, 0.3)
        s.add(ev.ReceiptRecorded(receipt_number=f"2026-{n:04d}"), at)
    at += timedelta(minutes=30)
    s.add(ev.OfficialAssigned(official=official(agency, n)), at)
    if agency == "agency-b" and n % 3 == 0:
        s.add(ev.CallbackPromised(callback_id=f"cb{n}"), at + timedelta(minutes=5))
        if n % 2:
            s.add(ev.CallbackMade(callback_id=f"cb{n}"), working_instant(rng, calendar, at, 0.2))
    if n % 6 == 2:
        at = working_instant(rng, calendar, at, 1)
        s.add(ev.PetitionTransferred(scope="within_agency", to_department="건축과", reason="소관 부서"), at)
        s.add(ev.OfficialAssigned(official=official(agency, 2)), at + timedelta(minutes=20))
    if n == 9:  # to another agency: the case becomes agency-b's
        at = working_instant(rng, calendar, at, 0.5)
        s.add(ev.PetitionTransferred(scope="other_agency", to_agency_id="agency-b", reason="관할 기관"), at)
        s.add(ev.OfficialAssigned(official=official("agency-b", 0)), at + timedelta(hours=1))
    if n % 5 == 3:
        at = working_instant(rng, calendar, at, 1)
        s.add(ev.SupplementRequested(items="도면"), at)
        at = working_instant(rng, calendar, at, rng.uniform(1, 3))
        s.add(ev.SupplementReceived(), at)
    if n % 8 == 4 and s.state.petition_type and s.state.petition_type.value == "grievance":
        at = working_instant(rng, calendar, at, 0.5)
        s.add(ev.FieldInvestigationStarted(), at)
        at = working_instant(rng, calendar, at, 1)
        s.add(ev.FieldInvestigationEnded(), at)
    if n % 6 == 1 and TYPES[n % len(TYPES)] != "other":  # Decree 21: no longer than the period itself
        at = working_instant(rng, calendar, at, 2)
        s.add(ev.ProcessingExtended(period="7d", reason="관계기관 협의", expected_completion=at + timedelta(days=20)), at)
    if n % 7 == 5:  # Seongnam: a repeat visit by the official's fault owes a voucher the head approves
        s.add(ev.RepeatVisitRecorded(official_id=official(agency, n).official_id, cause="서류 안내 누락"),
              at + timedelta(hours=1))
    if n % 11 == 6:
        s.add(ev.DiscourtesyConfirmed(official_id=official(agency, n).official_id, finding="불친절 확인"),
              at + timedelta(hours=2))
    if n % 10 != 7:  # most cases get a result, some late, some early
        at = working_instant(rng, calendar, max(at, received), rng.uniform(0.1, 11) if n % 4 else rng.uniform(0.1, 4))
        outcome = "refused" if n % 9 == 2 else "accepted"
        resolved = s.add(ev.PetitionResolved(outcome=outcome, explanation="처리 완료",
                                             refusal_reasons="요건 미충족" if outcome == "refused" else None,
                                             remedies="60일 이내 이의신청" if outcome == "refused" else None), at)
        if resolved is not None and n % 9 == 2:
            s.add(ev.ObjectionFiled(reason="재검토 요청"), at + timedelta(days=2))
        elif resolved is not None and rng.random() < 0.7:
            s.add(ev.ResultEvaluated(score=rng.randint(1, 5), comment=rng.choice(["", "친절했습니다", "느렸어요"])),
                  at + timedelta(hours=rng.randint(1, 40)))
            if rng.random() < 0.5:
                s.add(ev.PetitionClosed(), at + timedelta(days=3))
    return s


class World:
    def __init__(self, calendar: WorkingCalendar, cases: int = 48, seed: int = 18) -> None:
        rng = random.Random(seed)
        self.calendar = calendar
        self.scripts = [script(rng, calendar, n) for n in range(cases)]
        self.log: dict[str, list[Envelope]] = {t: [] for t in TOPICS}
        self._book = ObligationBook(calendar, CHARTERS)
        self._remedies = Remedies(CHARTERS, calendar)
        self._ledger = InMemoryLedgerState()
        timeline = [(e.occurred_at, i, e) for s in self.scripts for i, e in enumerate(s.events)]
        for env in self._notices():
            timeline.append((env.occurred_at, 99, env))
        for at, _, env in sorted(timeline, key=lambda t: (t[0], t[1])):
            self._derived(self._book.due(at))
            if isinstance(env.payload, (nv.NoticeSent,)):
                self.log["notice"].append(env)
            else:
                self.log["petition"].append(env)
                self._compensation(env, at)
                self._approve(env, at)
            self._derived(self._book.observe(env, at))
        self._derived(self._book.due(END))

    def _notices(self) -> list[Envelope]:
        """What notify would send: the receipt, each extension (Decree 21) and the result, by SMS."""
        out = []
        for s in self.scripts:
            for e in s.events:
                kind = {ev.PetitionReceived: "receipt", ev.ProcessingExtended: "extension",
                        ev.PetitionResolved: "completion"}.get(type(e.payload))
                at = e.occurred_at + timedelta(minutes=2)
                if kind is None or at > END:
                    continue
                out.append(Envelope(
                    event_id=uuid.uuid4(), case_id=s.case_id, case_version=e.case_version, occurred_at=at,
                    recorded_at=at, producer="notify", charter=e.charter,
                    payload=nv.NoticeSent(notice_id=f"{kind}:{e.event_id}"[:64], kind=kind, channel="sms",
                                          cause_event_id=str(e.event_id), template_id=kind, template_version="1",
                                          content_sha256="0" * 64, attempts=1, figures_as_of=at)))
        return out

    def _derived(self, events: list[Envelope]) -> None:
        for e in events:
            self.log["sla"].append(e)
            self._compensation(e, e.recorded_at)

    def _compensation(self, env: Envelope, at: datetime) -> None:
        self.log["compensation"] += self._remedies.record(self._ledger, env, at)

    def _approve(self, env: Envelope, at: datetime) -> None:
        """The department head approves what waits for approval an hour after it was proposed (Seongnam)."""
        for e in list(self.log["compensation"]):
            p = e.payload
            if e.event_type == "VoucherProposed" and p.approval == "department_head" and not any(
                    x.event_type == "VoucherApproved" and x.payload.voucher_id == p.voucher_id
                    for x in self.log["compensation"]) and e.occurred_at + timedelta(hours=1) <= at:
                self.log["compensation"] += self._remedies.approve(self._ledger, p.voucher_id, "head-1", at)

    def all_events(self) -> list[tuple[str, Envelope]]:
        return [(t, e) for t in TOPICS for e in self.log[t]]
