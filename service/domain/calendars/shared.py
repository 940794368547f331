"""One session's calendar entry as a reader in one language sees it, built once per batch.

A batch of emails about the same sessions (the composing job's first emails) builds the
same entry for every recipient but the ATTENDEE. Within `sharing_entries()` the entry is
built once per session, language, what the reader may see and SEQUENCE offset
(`service.domain.batch_memo`); each recipient's invite is that entry with their own
ATTENDEE line.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from service.db.models import Event, Session
from service.domain.batch_memo import BatchMemo
from service.domain.calendars.content import event_in, session_in
from service.domain.calendars.entries import session_entry
from service.domain.calendars.ical import CalendarEntry
from service.settings import Settings

_ENTRIES: BatchMemo[CalendarEntry] = BatchMemo("shared_entries")


def sharing_entries() -> AbstractContextManager[None]:
    """Within it (this task only), `shared_entry` builds each entry once."""
    return _ENTRIES.scope()


def shared_entry(
    session: Session, event: Event, settings: Settings, *, language: str,
    include_join_url: bool, cancelled: bool = False, sequence_offset: int = 0,
) -> CalendarEntry:
    """`session` as an invite shows it in `language` (`entries.session_entry` of its texts in
    that language), without attendees: each recipient's goes in when the invite is built
    (`ical.build_invites`)."""
    return _ENTRIES.get(
        (session, event, settings), (language, include_join_url, cancelled, sequence_offset),
        lambda: session_entry(
            session_in(session, event, language), event_in(event, language), settings,
            include_join_url=include_join_url, cancelled=cancelled,
            sequence_offset=sequence_offset,
        ))
