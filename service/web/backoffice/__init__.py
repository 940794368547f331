"""The organisers' back office under /organiser: server-rendered pages, one module per area.

Each module's Controller is listed here (one line each) and registered by the app.
"""

from typing import Any

from service.web.backoffice import accounts, audit_pages, auth_pages, dashboard, password_pages
from service.web.backoffice.emails import EmailsController
from service.web.backoffice.messages import MessagesController
from service.web.backoffice.reminders import RemindersController

BACKOFFICE_CONTROLLERS: list[Any] = []
BACKOFFICE_CONTROLLERS.append(auth_pages.AuthPagesController)  # sign in, sign out
BACKOFFICE_CONTROLLERS.append(dashboard.DashboardController)  # upcoming events
BACKOFFICE_CONTROLLERS.append(audit_pages.AuditPagesController)  # audit log per event and account
BACKOFFICE_CONTROLLERS.append(accounts.AccountsController)  # accounts and teams (admins)
BACKOFFICE_CONTROLLERS.append(password_pages.PasswordPagesController)  # invitations, resets
BACKOFFICE_CONTROLLERS.append(EmailsController)  # an event's outbox, previews, sending again
BACKOFFICE_CONTROLLERS.append(MessagesController)  # write to registrants
BACKOFFICE_CONTROLLERS.append(RemindersController)  # reminder schedule and policy
