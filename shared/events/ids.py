"""Ids that payloads carry from the agencies' systems: officials, agencies, callbacks, opinions.

A new id is a letter or digit, then up to 63 letters, digits, '.', '_', ':' or '-' (``ID_PATTERN``):
nothing a spreadsheet reads as a formula (``=``, ``+``, ``-``, ``@`` first), no spaces, quotes,
markup or separators. The rule binds where a fact is made: a payload built by its producer (intake's
command bodies are the payload models themselves) and the other APIs' bodies and filters.

The log keeps every event forever, and events recorded before the rule may hold ids it refuses (an
earlier release let an id start with '.', '_', ':' or '-', and some ids had no pattern at all). A
recorded event must always decode, so ``shared.events.envelope.decode`` validates its payload with
``{RECORDED: True}`` in the validation context: then only what was checked when it was written is
checked (``Id``: the earlier pattern; ``LooseId``: the length).
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
RECORDED = "recorded"  # validation-context key: the payload is read back from the log, not made now
_NEW_ID = re.compile(ID_PATTERN)
_EARLIER_ID = r"^[A-Za-z0-9._:-]+$"  # what an id had to match before ID_PATTERN


def is_recorded(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and bool(context.get(RECORDED))


def _new_id(value: str | None, info: ValidationInfo) -> str | None:
    if value is None or _NEW_ID.fullmatch(value) or is_recorded(info):
        return value
    raise ValueError("an id is a letter or digit, then up to 63 letters, digits, '.', '_', ':' or '-'")


_NEW_ID_RULE = AfterValidator(_new_id)

# An id field that always had a pattern (the earlier one): recorded ids are held to it still.
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=_EARLIER_ID, json_schema_extra={"pattern": ID_PATTERN}),
               _NEW_ID_RULE]
# An id field that had no pattern before (only a length): recorded ids are held to the length only.
LooseId = Annotated[str, Field(max_length=64, json_schema_extra={"pattern": ID_PATTERN}), _NEW_ID_RULE]
