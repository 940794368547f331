"""Whether an event takes registrations: one rule, the same answer from the domain and the pages.

The domain refuses with the rule's reason (a ConflictError naming the field) and the pages
show that reason; events and sessions are plain (unsaved) model objects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from service.db.models import Event, EventKind, EventStatus, Session, SessionMode, SessionStatus
from service.domain.errors import ConflictError
from service.domain.registration.rules import check_open
from service.web.page_views import registration_state

NOW = datetime(2035, 2, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def event(*, sessions_end: tuple[datetime, ...] = (NOW + 30 * DAY,), **overrides: Any) -> Event:
    sessions = [
        Session(id=index, title=f"Session {index}", mode=SessionMode.ONLINE,
                status=SessionStatus.SCHEDULED, starts_at=end - timedelta(hours=2), ends_at=end)
        for index, end in enumerate(sessions_end, start=1)
    ]
    values: dict[str, Any] = {"id": 1, "kind": EventKind.WEBINAR_SERIES, "title": "Webinars",
                              "slug": "webinars", "timezone": "Europe/Brussels",
                              "status": EventStatus.PUBLISHED, "registration_opens_at": None,
                              "registration_closes_at": None, **overrides}
    return Event(sessions=sessions, **values)


def refusal(of: Event) -> tuple[str, str | None] | None:
    try:
        check_open(of, NOW)
    except ConflictError as error:
        return error.message, error.field
    return None


def test_the_domain_and_the_page_give_the_same_reason() -> None:
    opens = datetime(2035, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in Brussels
    cases = [
        event(),
        event(status=EventStatus.CANCELLED),
        event(sessions_end=()),
        # Over, and its window closed (or never opened) too: "over" is the reason given.
        event(sessions_end=(NOW - DAY,), registration_closes_at=NOW - 2 * DAY),
        event(sessions_end=(NOW - DAY,), registration_opens_at=NOW + DAY),
        event(registration_opens_at=opens),
        event(registration_closes_at=NOW),
    ]

    assert [(refusal(case), registration_state(case, NOW)) for case in cases] == [
        (None, None),
        (("This event is cancelled.", "status"), "This event is cancelled."),
        (("The programme is not finished yet: registration opens soon.", "sessions"),
         "The programme is not finished yet: registration opens soon."),
        (("This event is over: registration is closed.", "registration_closes_at"),
         "This event is over: registration is closed."),
        (("This event is over: registration is closed.", "registration_closes_at"),
         "This event is over: registration is closed."),
        (("Registration has not opened yet.", "registration_opens_at"),
         "Registration has not opened yet. It opens on Thursday 1 March 2035 at 10:00 CET."),
        (("Registration is closed.", "registration_closes_at"), "Registration is closed."),
    ]
