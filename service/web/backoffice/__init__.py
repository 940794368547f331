"""The organisers' back office under /organiser: server-rendered pages, one module per area.

Each module's Controller is listed here (one line each) and registered by the app.
"""

from typing import Any

from service.web.backoffice import (  # noqa: I001
    agenda,
    audit_pages,
    auth_pages,
    dashboard,
)

BACKOFFICE_CONTROLLERS: list[Any] = []
BACKOFFICE_CONTROLLERS.append(auth_pages.AuthPagesController)  # sign in, sign out
BACKOFFICE_CONTROLLERS.append(dashboard.DashboardController)  # upcoming events
BACKOFFICE_CONTROLLERS.append(audit_pages.AuditPagesController)  # audit log per event and account
BACKOFFICE_CONTROLLERS.append(agenda.AgendaController)  # a session's agenda, paste an agenda
