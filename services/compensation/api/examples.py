"""Request examples in Korean for the compensation API docs (issue 19), as intake gives its own
(``services.intake.api.examples``). Each is a body the API accepts as written
(tests/integration/test_api_examples.py sends them to a running ledger)."""
from __future__ import annotations

from typing import Any

APPROVAL: dict[str, Any] = {
    "head": {"summary": "부서장 승인 (성남시: 재방문 보상은 부서장이 승인하면 바로 지급)",
             "value": {"official_id": "seongnam-head-0412"}}}
REJECTION: dict[str, Any] = {
    "applicant_delay": {"summary": "보상 반려 (사유를 남기고 취소: 삭제되지 않음)", "value": {
        "official_id": "seongnam-head-0412",
        "reason": "민원인이 보완 서류를 기한 뒤에 제출하여 생긴 지연으로, 처리기한 초과 보상 대상이 아닙니다."}}}
DELIVERY: dict[str, Any] = {
    "handed_over": {"summary": "상품권 전달 기록 (민원실 방문 수령)", "value": {"official_id": "o-1024"}}}
BATCH: dict[str, Any] = {
    "monthly": {"summary": "월별 일괄 지급 (고창군: 승인된 문화상품권을 매월 한 번에 지급)",
                "value": {"official_id": "gochang-clerk-07"}}}
