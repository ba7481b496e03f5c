"""Request examples in Korean for the webhooks API docs (issue 19), as intake gives its own
(``services.intake.api.examples``). Each is a body the API accepts as written, the target's name resolving
to a public address (tests/integration/test_api_examples.py sends them)."""
from __future__ import annotations

from typing import Any

SUBSCRIPTION: dict[str, Any] = {
    "breaches": {"summary": "당진시 민원관리시스템 연계: 접수·처리 완료·법정기한 위반·보상 지급", "value": {
        "url": "https://minwon.dangjin.go.kr/hooks/charterwatch",
        "event_types": ["PetitionReceived", "PetitionResolved", "ObligationBreached", "VoucherIssued"],
        "filters": {"municipality_ids": ["dangjin"], "obligation_kinds": ["statutory_deadline"]},
        "description": "민원 처리 현황 연계 (당진시 민원관리시스템)"}},
    "grievances": {"summary": "고충민원만: 연제구의 고충민원 접수·이송·연장·완료", "value": {
        "url": "https://minwon.yeonje.go.kr/api/webhooks/charterwatch",
        "event_types": ["PetitionReceived", "PetitionTransferred", "ProcessingExtended", "PetitionResolved"],
        "filters": {"municipality_ids": ["yeonje-gu"], "petition_types": ["grievance"]},
        "description": "연제구 고충민원 담당 부서 알림"}},
}
CHANGE: dict[str, Any] = {
    "narrow": {"summary": "기한 초과만 받도록 좁히기", "value": {
        "event_types": ["ObligationBreached"], "filters": {"obligation_kinds": ["statutory_deadline"]},
        "description": "법정 처리기한 초과 알림만"}},
    "pause": {"summary": "일시 중지 (받는 쪽 점검 중: 보낼 것은 기다림)", "value": {
        "enabled": False, "description": "수신 서버 점검 중 (12월 5일 18시까지)"}},
}
