"""Request examples in Korean for the API docs (issue 19: an integrator reads them before anything else).
Each is a body the API accepts as written (tests/integration/test_api_examples.py posts them)."""
from __future__ import annotations

from typing import Any

OFFICIAL = {"official_id": "o-1024", "name": "박민원", "department": "도로과", "phone": "041-350-3114",
            "email": "road@dangjin.go.kr"}

PETITION: dict[str, Any] = {
    "desk": {"summary": "방문 민원 (접수 즉시 처리기간 시작)", "value": {
        "municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit",
        "title": "시청 앞 보도블록 파손 신고", "body": "시청 정문 앞 보도블록이 깨져 보행이 위험합니다.",
        "received_at": "2026-12-01T10:00:00+09:00",
        "applicant": {"name": "홍길동", "phone": "010-1234-5678", "email": "hong@example.kr"},
        "receipt_number": "2026-민원-000123"}},
    "internet": {"summary": "인터넷 민원 (정식 접수 전: POST …/receipt로 접수)", "value": {
        "municipality_id": "yeonje-gu", "petition_type": "question_system", "channel": "internet",
        "title": "주민등록 등본 발급 절차 문의", "received_at": "2026-12-01T10:00:00+09:00",
        "applicant": {"name": "김민원", "phone": "+82 10 9876 5432"}, "notice_channels": ["sms", "inbox"],
        "electronic_consent": True}},
}

COMMANDS: dict[str, dict[str, Any]] = {
    "receipt": {"summary": "전자민원 정식 접수", "value": {"occurred_at": "2026-12-01T11:00:00+09:00",
                                                     "receipt_number": "2026-연제-004512"}},
    "assignment": {"summary": "담당자 지정", "value": {"occurred_at": "2026-12-01T11:30:00+09:00",
                                                  "official": OFFICIAL}},
    "supplement-requests": {"summary": "보완 요청 (처리기간 정지)", "value": {
        "occurred_at": "2026-12-02T10:00:00+09:00", "items": "현장 사진 2장과 위치 약도",
        "respond_by": "2026-12-09T18:00:00+09:00"}},
    "supplements": {"summary": "보완 접수 (처리기간 재개)", "value": {"occurred_at": "2026-12-04T15:00:00+09:00",
                                                            "note": "사진 2장 접수"}},
    "extensions": {"summary": "처리기간 연장 (시행령 제21조)", "value": {
        "occurred_at": "2026-12-08T10:00:00+09:00", "period": "7d", "reason": "관계 기관 협의가 필요합니다.",
        "expected_completion": "2026-12-17T18:00:00+09:00"}},
    "resolution": {"summary": "처리 완료", "value": {"occurred_at": "2026-12-09T15:00:00+09:00",
                                                 "outcome": "accepted", "explanation": "파손된 보도블록을 교체하였습니다."}},
    "evaluations": {"summary": "처리 결과 만족도 평가", "value": {"occurred_at": "2026-12-10T09:00:00+09:00",
                                                         "score": 5, "comment": "빠르게 처리해 주셔서 감사합니다."}},
    "transfers": {"summary": "소관 부서로 이송", "value": {"occurred_at": "2026-12-01T10:30:00+09:00",
                                                    "scope": "within_agency", "to_department": "건설과",
                                                    "reason": "보도 정비는 건설과 소관입니다."}},
}

# A backlog synced in one request (POST /v1/petitions:bulk): a filing, and facts on a case filed before.
BULK: list[dict[str, Any]] = [
    {"idempotency_key": "desk-2026-000123", "path": "/v1/petitions", "body": PETITION["desk"]["value"]},
    {"idempotency_key": "desk-2026-000124", "path": "/v1/petitions", "body": {
        "municipality_id": "dangjin", "petition_type": "grievance", "channel": "phone",
        "title": "불법 주정차 단속 요청", "body": "초등학교 앞 불법 주정차가 많아 아이들이 위험합니다.",
        "received_at": "2026-12-01T10:20:00+09:00", "applicant": {"name": "이시민", "phone": "010-2345-6789"}}},
]
