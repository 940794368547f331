"""One session's calendar entry as a reader in one language sees it, built once per batch.

A batch of emails about the same sessions (the composing job's first emails) builds the
same entry for every recipient but the ATTENDEE. Within `sharing_entries()` the entry is
built once per session, language, what the reader may see and SEQUENCE offset, and each
recipient gets a copy with their own attendee. Only for objects nobody changes while the
batch is composed: the entries are held by the objects themselves and end with the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

from service.db.models import Event, Session
from service.domain.calendars.content import event_in, session_in
from service.domain.calendars.entries import session_entry
from service.domain.calendars.ical import CalendarAttendee, CalendarEntry
from service.settings import Settings

_Key = tuple[int, int, int, str, bool, bool, int]
_Held = tuple[Session, Event, Settings, CalendarEntry]
_SHARED: ContextVar[dict[_Key, _Held] | None] = ContextVar("shared_entries", default=None)


@contextmanager
def sharing_entries() -> Iterator[None]:
    """Within it (this task only), `attendee_entry` builds each shared entry once."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def attendee_entry(
    session: Session, event: Event, settings: Settings, *, language: str,
    attendee: CalendarAttendee, include_join_url: bool, cancelled: bool = False,
    sequence_offset: int = 0,
) -> CalendarEntry:
    """`session` as `attendee`'s invite shows it in `language`: `entries.session_entry` of
    its texts in that language, with `attendee` the only ATTENDEE."""
    shared = _SHARED.get()
    key = (id(session), id(event), id(settings), language, include_join_url, cancelled,
           sequence_offset)
    held = shared.get(key) if shared is not None else None
    # The objects are held with their entry, so their ids cannot be reused meanwhile.
    if held is not None and held[0] is session and held[1] is event and held[2] is settings:
        entry = held[3]
    else:
        entry = session_entry(
            session_in(session, event, language), event_in(event, language), settings,
            include_join_url=include_join_url, cancelled=cancelled,
            sequence_offset=sequence_offset,
        )
        if shared is not None:
            shared[key] = (session, event, settings, entry)
    return replace(entry, attendees=(attendee,))
