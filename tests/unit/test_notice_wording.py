"""The generic rules of a citizen notice, checked on every current template in every situation of
tests/unit/notice_situations.py (issue 19 §5): 합쇼체, particles chosen by shared.korean, 공문서 dates,
no English, no UUID, no "을(를)", no doubled particles or spaces, a contact, one LMS at most."""
from __future__ import annotations

import re
from typing import Any

import pytest

from shared.korean import josa
from shared.notices import sms
from shared.notices.render import VERSIONS
from tests.unit.notice_situations import RENDERER, Situation, situations

SITUATIONS = situations()
PARTICLES = {"으로": ("으로", "로"), "로": ("으로", "로"), "을": ("을", "를"), "를": ("을", "를"), "이": ("이", "가"),
             "가": ("이", "가"), "은": ("은", "는"), "는": ("은", "는"), "과": ("과", "와"), "와": ("과", "와")}
PARTICLE = "(으로|로|을|를|이|가|은|는|과|와)(?=[\\s.,)]|$)"  # a particle ends its word
DATE = r"\d{4}\. \d{1,2}\. \d{1,2}\.\([월화수목금토일]\)"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
URL = re.compile(r"https?://\S+")
SENTENCE_ENDS = ("니다.", "니다", "십시오.")  # 합쇼체; a labelled line ("처리기한: …") ends as its value does


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return [str(value)] if isinstance(value, int) and not isinstance(value, bool) else []


def violations(text: str, context: dict[str, Any]) -> list[str]:
    """What breaks the generic rules in one rendered notice; ``context`` names the values put in it (the case's
    reference is an identifier the agency or intake gave, read as it is written)."""
    out: list[str] = []
    plain = URL.sub("", EMAIL.sub("", text)).replace(str(context.get("case_ref", "")), "")
    if re.search("[A-Za-z]", plain):
        out.append(f"Latin letters: {re.findall('[A-Za-z]+', plain)}")
    if UUID.search(text):
        out.append("a UUID")
    if re.search(r"[가-힣]\((을|를|이|가|은|는|과|와|으로|로)\)", text):
        out.append("a particle pair like 을(를)")
    if re.search(r"(을|를)(을|를)(?=\s)|(이|가)(이|가)(?=\s)|(은|는)(은|는)(?=\s)|으로로", text):
        out.append("a doubled particle")
    if "  " in text or re.search(r" \n| $|\n\n", text):
        out.append("a double space, a space at a line end or an empty line")
    if re.search(r"\(\d+개\)|\(\d+ ?[a-z]+\)", text):
        out.append("a (1개)-style count")
    if re.search(r"\d{4}년|\d{4}-\d{2}-\d{2}(?!\d)|\d{4}/\d{1,2}/", text):
        out.append("a date not in the 공문서 form")
    for m in re.finditer(r"\d{4}\.", text):
        if not re.match(DATE, text[m.start():]):
            out.append(f"a date not in the form 2026. 11. 10.(화): {text[m.start():m.start() + 20]!r}")
    for m in re.finditer(r"(?<![\d:])\d{1,2}:\d{1,2}(?![\d:])", text):
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", m.group()):
            out.append(f"a time not as 14:00: {m.group()}")
    for m in re.finditer(r"\d[\d,]*원", text):
        if not re.fullmatch(r"\d{1,3}(,\d{3})*원", m.group()):
            out.append(f"an amount not as 10,000원: {m.group()}")
    # the particle after a number, a parenthesis, or a value put in: chosen by shared.korean
    words = [(m.group(1), m.group(2)) for m in re.finditer(r"(\d[\d,]*(?:원|일|장|부|곳|건)?)" + PARTICLE, text)]
    words += [(m.group(1), m.group(2)) for m in re.finditer(r"([가-힣\w]+\([^()]*\))" + PARTICLE, text)]
    for value in {v for v in _strings(context) if v and v not in ("True", "False")}:
        for m in re.finditer(re.escape(value) + PARTICLE, text):
            words.append((value, m.group(1)))
    for word, particle in words:
        if josa(word, *PARTICLES[particle]) != word + particle:
            out.append(f"particle: {word + particle} (shared.korean: {josa(word, *PARTICLES[particle])})")
    lines = text.rstrip("\n").split("\n")
    if not lines[0].startswith(f"[{context['municipality']}] ") or not lines[0].endswith("니다."):
        out.append(f"the first line names the municipality and is one polite sentence: {lines[0]!r}")
    for line in lines:
        sentence = re.sub(r"\([^()]*\)\.$", ".", line)  # a citation closes the sentence: …않습니다(시행령 제20조).
        if ": " not in line and not line.startswith("[") and not sentence.endswith(SENTENCE_ENDS):
            out.append(f"a sentence not in 합쇼체 or not ended: {line!r}")
        if re.search(r"(한다|했다|된다|이다|해요|예요|어요)[.]?$", line):
            out.append(f"not 합쇼체: {line!r}")
    if not any(line.startswith(("담당: ", "이송 담당: ")) for line in lines):
        out.append("no one to contact")
    return out


def test_every_current_template_is_in_a_situation() -> None:
    assert {s.order.kind for s in SITUATIONS} == set(VERSIONS)
    assert {s.render().template_version for s in SITUATIONS if s.order.kind == "apology"} == {VERSIONS["apology"]}


@pytest.mark.parametrize("situation", SITUATIONS, ids=[s.label for s in SITUATIONS])
def test_every_notice_keeps_the_generic_rules(situation: Situation) -> None:
    rendered = situation.render()
    assert violations(rendered.text, situation.context) == [], rendered.text
    assert rendered.subject.startswith(f"[{situation.context['municipality']}] ") and rendered.subject.endswith("안내")
    plan = sms.plan(rendered.text)  # every notice is one LMS (none fits an SMS's 90 bytes with its contact line)
    assert (plan.message_type, len(plan.parts), plan.unencodable) == ("LMS", 1, 0)


def test_the_rules_find_what_the_first_templates_said() -> None:
    """The checks can fail: the apology and the receipt as their first versions said them, and a text that
    breaks every rule."""
    [apology] = [s for s in SITUATIONS if s.label == "사과(처리기한 초과, 상품권)"]
    assert any("을(를)" in v for v in violations(apology.render(version="1").text, apology.context))
    [receipt] = [s for s in SITUATIONS if s.label == "접수(방문, 담당자 지정 전)"]
    assert any("공문서" in v for v in violations(receipt.render(version="1").text, receipt.context))
    bad = ("[당진시] 민원이 접수되었습니다.\n민원: 신고 (접수번호 71789cbf-7319-4c2a-9e1b-0c9d7b6a5f42)  \n"
           "10000원 상당의 상품권를 드립니다.\n문의는 3으로로 하세요\n담당: 도로과 (1개)\n")
    found = violations(bad, {"municipality": "당진시", "case_ref": "", "voucher_kind": "상품권"})
    for rule in ("Latin", "UUID", "double space", "10,000원", "상품권를", "doubled particle", "(1개)", "합쇼체"):
        assert any(rule in v for v in found), (rule, found)


@pytest.mark.parametrize(("label", "expected"), [
    ("이송(다른 기관, 담당자 지정 전)", "[당진시] 민원을 처리할 권한이 있는 기관으로 이송하였습니다.\n"),
    ("이송(기관 안, 담당자가 넘김)", "이송 담당: 도로과 박민수(전화 041-350-1234, 전자우편 park@dangjin.go.kr)\n"),
    ("중간 안내(처리기간 정지 중)", "처리기한: 처리기간 정지 중\n남은 기간: 근무일 6일\n"),
    ("중간 안내(진행 중)", "처리기한: 2026. 11. 19.(목) 18:00\n남은 기간: 근무일 4일\n"),
    ("사과(처리기한 초과, 현금)", "경상남도 남해군 행정서비스헌장에 따라 보상금 10,000원을 드립니다.\n"),
    ("사과(처리기한 초과, 계좌이체 월 1회 지급)", "보상금 10,000원을 드립니다.\n보상은 매월 한 번 모아 지급하며"),
    ("사과(처리기한 초과, 문화상품권 월 1회 지급)", "10,000원 상당의 문화상품권을 드립니다.\n"),
    ("두 번째 보완 요청", "이번 기한까지도 보완하지 않으시면 민원을 되돌려 보낼 수 있습니다"),
    ("보완 요청(기한 없음)", "보완하지 않으시면 기한을 정하여 다시 요청드리고"),
])
def test_each_situation_says_what_it_is_about(label: str, expected: str) -> None:
    [situation] = [s for s in SITUATIONS if s.label == label]
    assert expected in situation.render().text


def test_an_apology_without_a_voucher_announces_none() -> None:
    [situation] = [s for s in SITUATIONS if s.label == "사과(불친절, 보상 없음)"]
    rendered = situation.render()
    assert rendered.subject == "[당진시] 민원 처리 사과 안내" and "원" not in rendered.text.split("\n", 3)[3]
    assert "사유: 불친절한 응대가 확인되었습니다.\n" in rendered.text
    assert RENDERER.render("apology", {**situation.context, "voucher_won": "10,000", "voucher_kind": "상품권",
                                       "collection": None}).subject == "[당진시] 민원 처리 사과 및 보상 안내"


def test_the_examples_in_the_docs_are_what_the_templates_render() -> None:
    """docs/notify.md shows one rendered notice per kind: it must not drift from the templates."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "notify.md").read_text(encoding="utf-8")
    section = doc.split("## 통지문", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```text\n(.*?)\n```", section, flags=re.S)
    rendered = {f"제목: {r.subject}\n{r.text.rstrip()}" for r in (s.render() for s in SITUATIONS)}
    assert len(examples) == len(VERSIONS) and all(e in rendered for e in examples)
