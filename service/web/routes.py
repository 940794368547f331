"""One registry of the route handlers and background hooks beyond the core JSON API."""

from __future__ import annotations

from typing import Any, Protocol

from litestar import Litestar

import service.web.group_feeds as group_feeds  # a line of its own: features add theirs
from scheduling.scheduler import SchedulerLifespanHook
from service.web import (
    api_consultation,
    api_emails,
    api_figures,
    api_groups,
    api_messages,
    api_registration,
    api_reminders,
    confirm_pages,
    feeds,
    pages,
    privacy_pages,
)
from service.web.erase_pages import ROUTE_HANDLERS as ERASURE_PAGE_ROUTES
from service.web.feedback_pages import ROUTE_HANDLERS as FEEDBACK_PAGE_ROUTES
from service.web.group_pages import ROUTE_HANDLERS as GROUP_PAGE_ROUTES


class LifespanHook(Protocol):
    async def start(self, app: Litestar) -> Any: ...

    async def stop(self, app: Litestar, handle: Any) -> None: ...


EXTRA_ROUTE_HANDLERS: list[Any] = []
LIFESPAN_HOOKS: list[LifespanHook] = []

EXTRA_ROUTE_HANDLERS.extend(feeds.ROUTE_HANDLERS)  # calendar feeds and feed links
EXTRA_ROUTE_HANDLERS.extend(pages.PAGE_ROUTE_HANDLERS)  # public HTML pages and static files
EXTRA_ROUTE_HANDLERS.extend(confirm_pages.ROUTE_HANDLERS)  # confirming a registrant's address
EXTRA_ROUTE_HANDLERS.extend(api_registration.ROUTE_HANDLERS)  # registrations API
EXTRA_ROUTE_HANDLERS.extend(api_consultation.ROUTE_HANDLERS)  # Meet-your-Buyer consultations
EXTRA_ROUTE_HANDLERS.extend(api_groups.ROUTE_HANDLERS)  # Interest Groups, as their pages show them
EXTRA_ROUTE_HANDLERS.extend(api_reminders.ROUTE_HANDLERS)  # an event's reminders
EXTRA_ROUTE_HANDLERS.extend(api_emails.ROUTE_HANDLERS)  # an event's emails, resending
EXTRA_ROUTE_HANDLERS.extend(api_messages.ROUTE_HANDLERS)  # writing to registrants, now or later
EXTRA_ROUTE_HANDLERS.extend(api_figures.ROUTE_HANDLERS)  # participation in figures
EXTRA_ROUTE_HANDLERS.extend(GROUP_PAGE_ROUTES)  # Interest Groups' pages, members' private pages
EXTRA_ROUTE_HANDLERS.extend(group_feeds.ROUTE_HANDLERS)  # Interest Groups' calendar feeds
EXTRA_ROUTE_HANDLERS.extend(privacy_pages.ROUTE_HANDLERS)  # privacy notice, a person's data
LIFESPAN_HOOKS.append(privacy_pages.NoticeLifespanHook())  # the first privacy notice
EXTRA_ROUTE_HANDLERS.extend(ERASURE_PAGE_ROUTES)  # a registrant erases their registration
EXTRA_ROUTE_HANDLERS.extend(FEEDBACK_PAGE_ROUTES)  # a registrant's feedback on the event
LIFESPAN_HOOKS.append(SchedulerLifespanHook())  # reminders, notices, outbox delivery
