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
