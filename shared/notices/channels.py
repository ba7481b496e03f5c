"""Which channels a petitioner is told on when the integrator names none. Pure.

Issue 19: a case with a phone number got a voucher and its citizen was never told, because
``notice_channels`` defaulted to nothing. The rule now: the channels the charter promises (its result
and interim notices), each only where a contact for it exists: an SMS needs a mobile number (a landline
cannot take one), an e-mail an address, and the homepage inbox needs nothing (the applicant's inbox
reference is always known). A charter that promises no channel is read as promising every channel
CharterWatch sends (SMS, e-mail, inbox). Intake stores the result on ``PetitionReceived.notice_channels``
and tells the integrator in its answer.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.charters.model import Charter, InterimNotice, ResultNotice

SENT = ("sms", "email", "inbox")  # what notify sends itself (post and phone are the agency's)


@dataclass(frozen=True)
class Contacts:
    """What the applicant gave that a channel needs."""

    mobile: bool = False  # a mobile number (SMS); a landline is no contact for SMS
    email: bool = False
    address: bool = False  # post, sent by the agency itself: never chosen by default


def promised_channels(charter: Charter | None) -> tuple[str, ...]:
    """The channels the charter promises to notify on, in the order it names them (result notices first)."""
    if charter is None:
        return ()
    out: list[str] = []
    for promise in (*charter.promises_of(ResultNotice), *charter.promises_of(InterimNotice)):
        for channel in promise.channels:  # type: ignore[attr-defined]
            if channel not in out:
                out.append(channel)
    return tuple(out)


def reachable(channel: str, contacts: Contacts) -> bool:
    return {"sms": contacts.mobile, "email": contacts.email, "inbox": True, "post": contacts.address}.get(channel, False)


def default_channels(charter: Charter | None, contacts: Contacts) -> tuple[str, ...]:
    """The channels used when the integrator gives none: promised by the charter (every channel sent, when it
    promises none), sent by CharterWatch, and with a contact for each."""
    promised = [c for c in promised_channels(charter) if c in SENT] or list(SENT)
    return tuple(c for c in promised if reachable(c, contacts))
