"""The calling agency, from its API key: the one authentication every HTTP service uses.

A service's app holds the access module's read sessions in ``app.state.keys`` (the composition root
puts them there); routes declare ``agency: Agency``. An app that also holds a ``KeyCache`` in
``app.state.key_cache`` (intake: every command is authenticated) looks a key up only once per TTL;
a revoked key then stops working within that TTL.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import sessionmaker

from services.platform.access.keys import Unauthorized, authenticate
from services.platform.http.key_cache import KeyCache

# Declared as a security scheme, so the OpenAPI document says how to authenticate and the docs'
# "Authorize" button works (a plain header parameter named Authorization is ignored by Swagger UI).
BEARER = HTTPBearer(auto_error=False, scheme_name="apiKey", bearerFormat="cw_<key id>.<secret>",
                    description="An agency's API key: `charterwatch keys create --agency <id>` prints it once.")


async def agency(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]) -> str:
    """The calling agency, from its API key (issued by `charterwatch keys create`). The scheme is declared
    for the docs; the header is read as sent, so another scheme or a malformed value gets the key check's
    own 401 wording. Async: a key found in the cache costs no thread hop; a lookup runs in the pool."""
    authorization = request.headers.get("authorization")
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cache is not None and (known := cache.agency(authorization)) is not None:
        return known
    agency_id = await run_in_threadpool(agency_of, request.app.state.keys, authorization)
    if cache is not None and authorization:
        cache.remember(authorization, agency_id)
    return agency_id


def agency_of(keys: sessionmaker, authorization: str | None) -> str:
    """The agency an ``Authorization`` header's API key belongs to; 401 otherwise."""
    with keys() as session:
        try:
            return authenticate(session, authorization)
        except Unauthorized as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


Agency = Annotated[str, Depends(agency)]
