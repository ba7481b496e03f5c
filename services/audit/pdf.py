"""The replay report as PDF: the HTML report (``report.as_html``) typeset by the platform's typesetter
(``services.platform.pdf``: WeasyPrint with a Korean font; ``PdfUnavailable`` without one)."""
from __future__ import annotations

from services.platform.pdf import (
    FIX,
    PdfUnavailable,
    as_pdf,
    forget_fonts,
    korean_fonts,
)

__all__ = ["FIX", "PdfUnavailable", "as_pdf", "forget_fonts", "korean_fonts"]
