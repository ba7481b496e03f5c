"""The calling agency, from its API key: the one authentication every HTTP service uses.

A service's app holds the access module's read sessions in ``app.state.keys`` (the composition root
puts them there); routes declare ``agency: Agency``.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import sessionmaker

from services.platform.access.keys import Unauthorized, authenticate


def agency(request: Request,
           authorization: Annotated[str | None, Header(description="Bearer cw_<key id>.<secret>")] = None) -> str:
    """The calling agency, from its API key (issued by `charterwatch keys create`)."""
    keys: sessionmaker = request.app.state.keys
    with keys() as session:
        try:
            return authenticate(session, authorization)
        except Unauthorized as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


Agency = Annotated[str, Depends(agency)]
