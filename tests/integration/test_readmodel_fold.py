"""Property: whatever commands are sent, the read model equals a fold of the log."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.bootstrap import Container
from shared.events import decode
from shared.instants import KST
from shared.petition_case import fold
from shared.petition_clock import case_deadlines
from tests.integration.conftest import http_client, make_container
from tests.integration.test_lifecycle import OFFICIAL, project

T0 = datetime(2026, 11, 2, 10, tzinfo=KST)
EXT = {"reason": "협의", "expected_completion": "2026-12-30T18:00:00+09:00"}
COMMANDS = {
    "receipt": {},
    "assignment": {"official": OFFICIAL},
    "transfers": {"scope": "within_agency", "to_department": "건설과", "reason": "소관"},
    "supplement-requests": {"items": "서류"},
    "supplements": {},
    "field-investigation/start": {},
    "field-investigation/end": {},
    "extensions": {"period": "3d", **EXT},
    "extensions+consent": {"period": "3d", "petitioner_consent": True, **EXT},
    "interim-notices": {"progress": "검토 중", "expected_completion": "2026-12-30T18:00:00+09:00"},
    "resolution": {"outcome": "accepted", "explanation": "처리했습니다"},
    "resolution+refused": {"outcome": "refused", "explanation": "불가", "refusal_reasons": "요건", "remedies": "이의신청"},
    "closure": {},
    "objections": {"reason": "재검토"},
    "evaluations": {"score": 3},
}

steps = st.lists(st.tuples(st.sampled_from(sorted(COMMANDS)), st.integers(0, 30)), min_size=1, max_size=14)


def check_fold(c: Container, http, case_ids: list[str]) -> None:
    project(c)
    reader = c.log.reader(c.topics.petition_events)
    records = []
    while batch := reader.poll(timeout=0.3):
        records.extend(batch)
    reader.close()
    for case_id in case_ids:
        events = sorted((decode(r.value) for r in records if r.key == case_id), key=lambda e: e.case_version)
        state = fold(case_id, events)
        charter = c.charters.get(events[0].charter.charter_id, events[0].charter.version)
        deadlines = case_deadlines(state, charter, c.calendar)
        row = http.get(f"/v1/petitions/{case_id}").json()
        assert row["version"] == state.version == len(events)
        assert [e.case_version for e in events] == list(range(1, len(events) + 1))
        assert row["status"] == state.status.value
        assert row["paused"] == (state.open_pause is not None)
        assert row["extensions"] == len(state.extensions)
        assert row["department"] == state.department
        assert row["outcome"] == (state.outcome.value if state.outcome else None)
        expected_due = deadlines.statutory.due_at.isoformat() if deadlines and deadlines.statutory.due_at else None
        assert row["statutory_due_at"] == expected_due


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(electronic=st.booleans(), grievance=st.booleans(), sequence=steps)
def test_read_model_is_a_fold_of_the_log(tmp_path_factory, electronic: bool, grievance: bool,
                                         sequence: list[tuple[str, int]]) -> None:
    tmp: Path = tmp_path_factory.mktemp("fold")
    c = make_container(tmp, f"sqlite:///{tmp / 'rm.db'}")
    try:
        http = http_client(c)
        r = http.post("/v1/petitions", json={
            "municipality_id": "dangjin", "petition_type": "grievance" if grievance else "question_system",
            "channel": "internet" if electronic else "visit", "title": "보도 파손", "received_at": T0.isoformat(),
            "applicant": {"name": "정시민", "phone": "010-3333-4444"}})
        case_id = r.json()["case_id"]
        at = T0
        for name, hours in sequence:
            at += timedelta(hours=hours)
            path = name.split("+")[0]
            body = {"occurred_at": at.isoformat(), **COMMANDS[name]}
            if "expected_completion" in body:  # a day after the fact: inside what the law allows while it can
                body["expected_completion"] = (at + timedelta(days=1)).isoformat()
            r = http.post(f"/v1/petitions/{case_id}/{path}", json=body)
            # accepted, refused by a rule, or (late in a long sequence) an expected completion past the
            # latest the law allows
            assert r.status_code in (201, 409) or (r.status_code == 422 and r.json()["field"] == "expected_completion"), \
                r.text
        check_fold(c, http, [case_id])
    finally:
        c.close()
