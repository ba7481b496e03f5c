"""Particles chosen by the final consonant (issue 19: "상품권을(를)"), and old notices rendered again with
the template version they were sent with."""
from __future__ import annotations

import pytest

from shared.korean import josa
from shared.notices.render import Renderer


@pytest.mark.parametrize("word, pair, expected", [
    ("상품권", ("을", "를"), "상품권을"), ("문화상품권", ("을", "를"), "문화상품권을"), ("보상금(계좌이체)", ("을", "를"), "보상금(계좌이체)을"),
    ("편지", ("을", "를"), "편지를"), ("민원", ("이", "가"), "민원이"), ("담당자", ("이", "가"), "담당자가"),
    ("서울", ("으로", "로"), "서울로"), ("우편", ("으로", "로"), "우편으로"), ("문자", ("으로", "로"), "문자로"),
    ("1", ("으로", "로"), "1로"), ("3", ("으로", "로"), "3으로"), ("2", ("은", "는"), "2는"), ("10", ("은", "는"), "10은"),
    # what the notices put before a particle (issue 19 §5): amounts, departments, a day count, a number
    ("10,000원", ("을", "를"), "10,000원을"), ("5,000", ("이", "가"), "5,000이"), ("건설과", ("으로", "로"), "건설과로"),
    ("민원여권과", ("으로", "로"), "민원여권과로"), ("도로관리사업소", ("으로", "로"), "도로관리사업소로"),
    ("20", ("으로", "로"), "20으로"), ("7일", ("이", "가"), "7일이"), ("2AA-2611-0012", ("은", "는"), "2AA-2611-0012는"),
])
def test_the_particle_follows_the_final_consonant(word: str, pair: tuple[str, str], expected: str) -> None:
    assert josa(word, *pair) == expected


def test_a_notice_is_rendered_again_with_the_version_it_was_sent_with() -> None:
    ctx = {"municipality": "당진시", "title": "t", "case_ref": "c", "cause": "처리기한을 지키지 못했습니다",
           "voucher_won": "10,000", "voucher_kind": "문화상품권", "official": None}
    renderer = Renderer()
    assert "문화상품권을 드립니다" in renderer.render("apology", ctx, version="2").text
    old = renderer.render("apology", ctx, version="1")
    assert old.template_version == "1" and "문화상품권을(를) 드립니다" in old.text
