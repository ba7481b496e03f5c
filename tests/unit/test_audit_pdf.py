"""The audit report as PDF, checked as a person would look at it: rendered to PNG (pypdfium2), the
page is not blank, the Korean conclusion is on it, and its Hangul is drawn with a Korean font, not as
the empty boxes ("tofu") a machine without one prints. The checks are shown to catch tofu: the same
report typeset where fontconfig sees no Korean font fails them.

Under CI=true a missing piece (WeasyPrint, pypdfium2, a Korean font) fails these tests; elsewhere it
skips them with the reason."""
from __future__ import annotations

import ctypes
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from services.audit import pdf as audit_pdf
from services.audit.report import as_html
from shared.events import petition as ev
from shared.working_time import WorkingCalendar
from tests.conftest import _missing
from tests.unit.test_audit_report import SUPPLEMENT, reported, resolved
from tests.unit.test_obligations import kst

SCALE = 3  # pixels per PDF point: Hangul at 16 pt is about 48 px high
TITLE = "민원재현감사보고서"  # distinct syllables of the title, all in one font and size


def needed(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        _missing(f"{module} (pip install -e '.[test]')")
        raise  # unreachable: _missing fails or skips


@pytest.fixture(scope="module")
def report(calendar: WorkingCalendar) -> dict[str, Any]:
    return reported(calendar, [*SUPPLEMENT, resolved(kst(2026, 11, 13, 15))], kst(2026, 11, 20, 10))


@pytest.fixture(scope="module")
def pdf(report: dict[str, Any]) -> bytes:
    try:
        return audit_pdf.as_pdf(as_html(report))
    except audit_pdf.PdfUnavailable as exc:
        _missing(f"the PDF report: {exc}")
        raise


def page_text(page: Any) -> str:
    return page.get_textpage().get_text_range()  # type: ignore[no-any-return]


def hangul_fonts(page: Any) -> set[str]:
    """The base font names that draw the page's Hangul (subset prefixes dropped)."""
    raw = needed("pypdfium2.raw")
    textpage = page.get_textpage()
    names = set()
    buf, flags = ctypes.create_string_buffer(256), ctypes.c_int()
    for i, ch in enumerate(textpage.get_text_range()):
        if "가" <= ch <= "힣":
            raw.FPDFText_GetFontInfo(textpage.raw, i, buf, len(buf), ctypes.byref(flags))
            names.add(buf.value.decode("latin-1").split("+")[-1])
    return names


def glyph_shapes(page: Any, image: Any, syllables: str = TITLE) -> dict[str, bytes]:
    """Each syllable's first occurrence as drawn: its box cut from the rendered page, 24x24, black or white."""
    textpage, height = page.get_textpage(), page.get_height()
    out: dict[str, bytes] = {}
    for i, ch in enumerate(textpage.get_text_range()):
        if ch in syllables and ch not in out:
            left, bottom, right, top = textpage.get_charbox(i)
            box = (int(left * SCALE), int((height - top) * SCALE),
                   int(right * SCALE) + 1, int((height - bottom) * SCALE) + 1)
            cut = image.convert("L").crop(box).resize((24, 24))
            out[ch] = bytes(1 if v < 128 else 0 for v in cut.tobytes())
    return out


def least_difference(shapes: dict[str, bytes]) -> float:
    """The smallest share of differing pixels between two distinct syllables: 0 when all are the same box."""
    keys = list(shapes)
    return min(sum(a != b for a, b in zip(shapes[x], shapes[y])) / len(shapes[x])
               for i, x in enumerate(keys) for y in keys[i + 1:])


def test_the_pdf_draws_the_korean_report_readably(report: dict[str, Any], pdf: bytes, tmp_path: Path) -> None:
    pdfium = needed("pypdfium2")
    doc = pdfium.PdfDocument(pdf)
    first = doc[0]
    assert [round(x) for x in first.get_size()] == [595, 842]  # A4 in points
    whole = re.sub(r"\s+", "", "".join(page_text(p) for p in doc))
    assert re.sub(r"\s+", "", report["conclusion"]) in whole  # the conclusion, as written
    text = re.sub(r"\s+", "", page_text(first))
    assert text.startswith("민원재현감사보고서") and "결론" in text and "법정처리기한위반" in text

    fonts = hangul_fonts(first)
    assert fonts and all(re.search("Nanum|CJK", f) for f in fonts), fonts  # tofu comes in DejaVu or the like

    image = first.render(scale=SCALE).to_pil()
    png = tmp_path / "audit-report-page1.png"
    image.save(png)  # look at it: str_replace_based_edit_tool view on this path
    gray = image.convert("L")
    inked = sum(1 for v in gray.tobytes() if v < 128) / (gray.width * gray.height)
    assert 0.01 < inked < 0.5, inked  # neither blank nor a black page
    shapes = glyph_shapes(first, image)
    assert set(shapes) == set(TITLE)
    assert all(0.1 < sum(s) / len(s) < 0.8 for s in shapes.values())  # each syllable leaves ink
    assert least_difference(shapes) > 0.1  # and each is its own shape: tofu boxes are all alike


def test_without_a_korean_font_the_checks_see_tofu_and_the_service_refuses(
        report: dict[str, Any], pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fontconfig limited to one font without Hangul (a copy of a Latin font in a private directory)."""
    pdfium = needed("pypdfium2")
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        _missing("fontconfig's fc-list (apt-get install fontconfig)")
    def files(lang: str) -> list[str]:
        listed = subprocess.run([str(fc_list), f":lang={lang}", "file"], capture_output=True, text=True)
        return [f.rstrip(":") for f in listed.stdout.split() if f.endswith((".ttf:", ".otf:"))]

    korean = set(files("ko"))
    latin = [f for f in files("en") if f not in korean]
    if not latin:
        _missing("a font without Hangul to stand in for a machine without a Korean font")
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(latin[0], fonts)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>{fonts}</dir>'
                    f'<cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>', encoding="utf-8")
    html, out = tmp_path / "report.html", tmp_path / "tofu.pdf"
    html.write_text(as_html(report), encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    # WeasyPrint itself, past the service's check: what such a machine would print
    typeset = subprocess.run([sys.executable, "-c", "import sys, weasyprint; weasyprint.HTML(filename=sys.argv[1])"
                              ".write_pdf(sys.argv[2])", str(html), str(out)], env=env, capture_output=True, text=True,
                             timeout=120)
    assert typeset.returncode == 0, typeset.stderr
    page = pdfium.PdfDocument(out.read_bytes())[0]
    assert re.sub(r"\s+", "", page_text(page)).startswith("민원재현감사보고서")  # the text layer alone cannot tell
    assert not any(re.search("Nanum|CJK", f) for f in hangul_fonts(page))
    image = page.render(scale=SCALE).to_pil()
    image.save(tmp_path / "tofu-page1.png")
    assert least_difference(glyph_shapes(page, image)) < 0.05  # every syllable the same box

    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    audit_pdf.forget_fonts()
    try:
        with pytest.raises(audit_pdf.PdfUnavailable, match="fonts-nanum"):
            audit_pdf.as_pdf(as_html(report))
    finally:
        monkeypatch.undo()
        audit_pdf.forget_fonts()
    assert audit_pdf.korean_fonts()  # with the machine's fonts again


def test_an_open_case_in_hours_renders_too(calendar: WorkingCalendar, tmp_path: Path) -> None:
    """A case still open, paused, with an extension: every section the template has, typeset."""
    pdfium = needed("pypdfium2")
    extended = ev.ProcessingExtended(period="7d", reason="관계기관 협의", expected_completion=kst(2026, 11, 19, 18))
    paused = (ev.SupplementRequested(items="도면"), kst(2026, 11, 16, 10))
    r = reported(calendar, [(extended, kst(2026, 11, 9, 10)), paused], kst(2026, 11, 17, 10))
    try:
        data = audit_pdf.as_pdf(as_html(r))
    except audit_pdf.PdfUnavailable as exc:
        _missing(f"the PDF report: {exc}")
    doc = pdfium.PdfDocument(data)
    text = re.sub(r"\s+", "", "".join(page_text(p) for p in doc))
    assert "7일(민원인동의)" not in text and "7일" in text and "처리기간이정지되어" in text
    doc[0].render(scale=1).to_pil().save(tmp_path / "open-page1.png")
