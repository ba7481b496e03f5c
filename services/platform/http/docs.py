"""The interactive API docs (``/docs``), served by the process itself: Swagger UI's files come from the
fastapi-offline package (Swagger UI 5, which reads the OpenAPI 3.1 documents FastAPI writes; the
swagger-ui-bundle package's 4.15 drew "Unable to render this definition" instead), never a CDN
(government networks are closed to the internet). Each app is made with FastAPI's own docs off
(``docs_url=None, redoc_url=None``) and calls ``install``."""
from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PATH = "/docs"
ASSETS = "/docs-assets"
# Only the package's files: our apps keep their own construction (its FastAPIOffline factory is not used).
SWAGGER_UI = str(files("fastapi_offline") / "static")


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    @app.get(PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title}: API",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None})  # no badge from swagger.io
