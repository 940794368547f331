"""The organisers' back office under /organiser: server-rendered pages, one module per area.

Each module's Controller is listed here (one line each) and registered by the app.
"""

from typing import Any

from service.web.backoffice import agenda
from service.web.backoffice import audit_pages
from service.web.backoffice import auth_pages
from service.web.backoffice import dashboard
from service.web.backoffice import events

BACKOFFICE_CONTROLLERS: list[Any] = []
BACKOFFICE_CONTROLLERS.append(auth_pages.AuthPagesController)  # sign in, sign out
BACKOFFICE_CONTROLLERS.append(dashboard.DashboardController)  # upcoming events
BACKOFFICE_CONTROLLERS.append(audit_pages.AuditPagesController)  # audit log per event and account
BACKOFFICE_CONTROLLERS.append(agenda.AgendaController)  # a session's agenda, paste an agenda
BACKOFFICE_CONTROLLERS.append(events.EventEditorController)  # events and their sessions
