"""The API docs on a closed network (issue 19 §2: 망분리): each API's /docs in Debian's chromium with every
request off this machine refused. Swagger UI must draw every operation of the API's OpenAPI document from
local assets, offer "Authorize" with the bearer scheme, and show the Korean request examples; nothing may
be asked of another host (a CDN would be refused here, as it is on a government network)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.conftest import World

APIS = {"intake": "port", "compensation": "compensation_port", "notify": "notify_port", "audit": "audit_port",
        "webhooks": "webhooks_port"}


@pytest.mark.parametrize("api", list(APIS))
def test_the_docs_work_with_no_network(world: World, browser: Any, api: str) -> None:
    base = f"http://127.0.0.1:{getattr(world.system, APIS[api])}"
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    operations = sum(1 for item in spec["paths"].values() for verb in item if verb in
                     ("get", "post", "put", "patch", "delete"))
    assert operations > 0
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 900})
    refused: list[str] = []
    failed: list[str] = []

    def closed_network(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:  # the internet, as a closed network answers it
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", closed_network)
    page = context.new_page()
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: failed.append(f"{r.url}: {r.status}") if r.status >= 400 else None)
    try:
        page.goto(f"{base}/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        drawn = page.locator(".swagger-ui .opblock").count()
        assert drawn == operations, f"{api}: Swagger UI drew {drawn} of {operations} operations"
        assert page.locator(".swagger-ui .info .title").inner_text().strip()
        # Authorize: the bearer scheme the API declares
        page.click(".swagger-ui .auth-wrapper .authorize")
        dialog = page.locator(".swagger-ui .dialog-ux .modal-ux")
        dialog.wait_for()
        assert "bearer" in dialog.inner_text().lower(), dialog.inner_text()
        page.locator(".swagger-ui .dialog-ux button.close-modal").click()
        dialog.wait_for(state="hidden")
        if api == "intake":  # a request example in Korean, as the API gives it
            page.locator(".swagger-ui .opblock-post", has_text="/v1/petitions").first.click()
            body = page.locator(".swagger-ui .opblock.is-open .body-param__example, "
                                ".swagger-ui .opblock.is-open .microlight").first
            body.wait_for()
            assert any("\uac00" <= ch <= "\ud7a3" for ch in body.inner_text()), "no Korean in the request example"
    finally:
        context.close()
    assert not refused, f"{api}: /docs asked the internet for {refused}"
    assert not failed, f"{api}: requests failed: {failed}"
