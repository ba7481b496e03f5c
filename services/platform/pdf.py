"""Korean documents as PDF: an HTML document typeset by WeasyPrint, with a Korean font installed on the
machine. The audit's replay report and the console's yearly satisfaction report use it.

WeasyPrint (and its Pango and fontTools) is imported on the first PDF, not when a service starts: most
reports are read as JSON or HTML. A machine without a Korean font would print every Hangul syllable as
an empty box, a PDF nobody can read: it is refused instead (``PdfUnavailable``), naming the fix.
Nothing is fetched while rendering (government networks are closed): the HTML names no remote asset,
and a URL fetcher that allows no protocol makes sure of it.
"""
from __future__ import annotations

import shutil
import subprocess

FIX = "install a Korean font: apt-get install fonts-nanum (or fonts-noto-cjk)"
_found: tuple[str, ...] = ()  # what fontconfig listed once; an empty answer is asked again (fonts may come)


class PdfUnavailable(RuntimeError):
    """This machine cannot typeset a document: WeasyPrint, its libraries or a Korean font are missing."""


def korean_fonts() -> tuple[str, ...]:
    """The Korean font families fontconfig knows (empty without fontconfig's fc-list: nothing to ask).
    The documents' CSS names NanumGothic (fonts-nanum: quick to subset into a PDF) and Noto Sans CJK KR
    (fonts-noto-cjk: subsetting it takes seconds); Pango falls back to any other for Hangul."""
    global _found
    fc_list = shutil.which("fc-list")
    if _found or fc_list is None:
        return _found
    listed = subprocess.run([fc_list, ":lang=ko", "family"], capture_output=True, text=True, timeout=30, check=False)
    _found = tuple(sorted({name.strip() for line in listed.stdout.splitlines() for name in line.split(",")}))
    return _found


def forget_fonts() -> None:
    """Ask fontconfig again next time (a test that changes what it sees)."""
    global _found
    _found = ()


def as_pdf(html: str) -> bytes:
    """The PDF bytes of a self-contained HTML document (its styles inline; it may name no other file)."""
    if shutil.which("fc-list") is None:  # fontconfig is what Pango finds fonts through: without it, no Hangul
        raise PdfUnavailable(f"fontconfig (fc-list) is missing, so no Korean font can be found: {FIX}")
    if not korean_fonts():  # any will do: Pango falls back to it for Hangul
        raise PdfUnavailable(f"no Korean font on this machine: {FIX}")
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango's shared libraries are missing
        raise PdfUnavailable(f"WeasyPrint cannot load: {exc}") from exc
    no_fetching = URLFetcher(allowed_protocols=())  # every URL refused: the document is self-contained
    return weasyprint.HTML(string=html, url_fetcher=no_fetching).write_pdf()  # type: ignore[no-any-return]
