"""FastAPI dependencies every CharterWatch API shares: the container and the calling agency (API keys)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from services.bootstrap import Container
from services.platform.access.keys import Unauthorized, authenticate


def container(request: Request) -> Container:
    return request.app.state.container


Deps = Annotated[Container, Depends(container)]


def agency(c: Deps, authorization: Annotated[str | None, Header(description="Bearer cw_<key id>.<secret>")] = None) -> str:
    """The calling agency, from its API key (issued by `charterwatch keys create`)."""
    with c.readers() as session:
        try:
            return authenticate(session, authorization)
        except Unauthorized as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


Agency = Annotated[str, Depends(agency)]
