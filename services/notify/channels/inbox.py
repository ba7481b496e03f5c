"""The homepage inbox (홈페이지 알림함): a row the citizen's portal reads over HTTP."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from services.notify.channels.port import Message
from services.notify.store.orm import InboxMessageRow


class InboxChannel:
    provider = "inbox"

    def __init__(self, sessions: sessionmaker, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    async def send(self, m: Message) -> str | None:
        with self._sessions.begin() as session:
            if session.get(InboxMessageRow, m.notice_id) is None:  # the notice id makes a retry a no-op
                session.add(InboxMessageRow(message_id=m.notice_id, applicant_ref=m.applicant_ref, agency_id=m.agency_id,
                                            case_id=m.case_id, kind=m.kind, subject=m.subject[:200], body=m.text,
                                            created_at=self._clock()))
        return m.notice_id
