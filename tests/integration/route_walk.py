"""The back office's routes from the application's own route table (not a hand-kept list),
and one object of each kind to walk them with (`ids`): for the walks over every route
(authorisation, every page, hostile forms)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ConsultationDocument,
    ConsultationQuestion,
    MeetingSeries,
    OutboxEmail,
    OutboxStatus,
    ScheduledMessage,
    ScheduledMessageStatus,
    SessionMode,
)
from service.domain.accounts import default_team_id
from service.settings import Settings
from tests.factories import (
    make_agenda_item,
    make_approved_member,
    make_event,
    make_group,
    make_organisation,
    make_person,
    make_registration,
)
from tests.integration.backoffice import SignedInClient

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PREFIXES = ("/organiser", "/api/organiser")
# An emailed link's token: the only path parameter of the pages open to anyone.
PUBLIC_PARAMS = frozenset({"token"})
_PARAM = re.compile(r"\{(\w+):\w+\}")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    params: tuple[str, ...]
    is_public: bool

    @property
    def is_backoffice(self) -> bool:
        return self.template == "/organiser" or self.template.startswith("/organiser/")

    def url(self, ids: dict[str, Any]) -> str:
        return _PARAM.sub(lambda m: str(ids[m.group(1)]), self.template)


def state_changing_routes(app: Litestar) -> list[Route]:
    """Every route handler under the two prefixes with a method that may change state."""
    found: list[Route] = []
    for route in app.routes:
        if not route.path.startswith(PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", ()):
            for method in sorted(getattr(handler, "http_methods", ())):
                if method in SAFE_METHODS:
                    continue
                found.append(Route(method, route.path, tuple(_PARAM.findall(route.path)),
                                   bool(handler.opt.get("backoffice_public"))))
    return sorted(found, key=lambda r: (r.template, r.method))


def page_routes(app: Litestar) -> list[Route]:
    """Every back-office page (GET), from the route table."""
    return sorted({Route("GET", route.path, tuple(_PARAM.findall(route.path)), False)
                   for route in app.routes
                   if isinstance(route, HTTPRoute) and "GET" in route.methods
                   and (route.path == "/organiser" or route.path.startswith("/organiser/"))},
                  key=lambda r: r.template)


@pytest.fixture
async def ids(db: AsyncSession, settings: Settings, organiser_client: SignedInClient
              ) -> dict[str, Any]:
    """One object of each kind, all of the default team's event (the organiser's team)."""
    event = await make_event(db, settings, slug="walked-event", title="Walked event")
    session = event.sessions[0]
    person = await make_person(db, "Carla Canal", "carla@example.org", organisation="Barcelona")
    item = await make_agenda_item(db, settings, session, "2035-11-12T10:00", "2035-11-12T10:30",
                                  "Facing market challenges", [person])
    registration = await make_registration(db, event, session, "Ana Silva")
    now = datetime.now(UTC)
    email = OutboxEmail(message_id="<walk@events.test>", template="confirmation",
                        to_address="ana@example.org", subject="Registered",
                        status=OutboxStatus.FAILED, attempts=1, next_attempt_at=now,
                        created_at=now, event_id=event.id, registration_id=registration.id)
    db.add(email)
    question = ConsultationQuestion(event_id=event.id, asked_by="Ana Silva", question="Why?",
                                    asked_at=now)
    db.add(question)
    document = ConsultationDocument(event_id=event.id, title="Draft criteria",
                                    url="https://example.org/criteria.pdf", shared_at=now)
    db.add(document)
    message = ScheduledMessage(event_id=event.id, audiences=["confirmed"], subject="Later",
                               text="Hello", translations={}, send_at=now + timedelta(days=1),
                               status=ScheduledMessageStatus.PENDING, problem="",
                               created_at=now, updated_at=now)
    db.add(message)
    group = await make_group(db, facilitator=person)
    member = await make_approved_member(db, settings, group, "Ana Silva",
                                     await make_organisation(db, "Lisboa"))
    series = MeetingSeries(group_id=group.id, uid="series-walk@events.test", title="Web meeting",
                           starts_at=now, duration_minutes=60, timezone="Europe/Brussels",
                           mode=SessionMode.ONLINE, agenda="", created_at=now, updated_at=now)
    db.add(series)
    await db.flush()
    result = {"event_id": event.id, "session_id": session.id, "agenda_item_id": item.id,
              "registration_id": registration.id, "email_id": email.id, "person_id": person.id,
              "organisation_id": person.organisation_id or 0,
              "account_id": organiser_client.account_id, "token": "x" * 43,
              "team_id": await default_team_id(db), "question_id": question.id,
              "document_id": document.id, "scheduled_message_id": message.id,
              "group_id": group.id, "group_member_id": member.id, "series_id": series.id}
    await db.commit()
    return result
