"""Rendering a page: the templates (autoescaped) and what every page's layout needs.

Pages call ``render(request, "queue.html", {...}, nav="queue")``; the layout (``base.html``) gets the
signed-in account (``user``), its session's CSRF token (``csrf_token``, for every form) and the
navigation item to mark as current (``nav``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.console.web.security import signed_in

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# (nav key, path, label): the layout's navigation, in this order.
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("queue", "/queue", "작업 목록"),
    ("overdue", "/overdue", "기한 경과 검토"),
    ("remedies", "/remedies", "보상"),
    ("compliance", "/compliance", "처리 현황"),
    ("satisfaction", "/satisfaction", "만족도"),
    ("reports", "/reports", "연간 보고서"),
)

# Autoescape on for every template, whatever its name: case text comes from citizens.
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True)
_env.globals["NAVIGATION"] = NAVIGATION
templates = Jinja2Templates(env=_env)


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, nav: str | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    session = signed_in(request)
    values: dict[str, Any] = {
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "nav": nav,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status_code, headers=headers)
    # Pages show case data of one agency: never kept by a shared cache or the browser's history cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
