"""The organisers' back office under /organiser: server-rendered pages, one module per area.

Each module's Controller is imported and listed here (one line each) and registered by the app.
"""

from typing import Any

from service.web.backoffice.accounts import AccountsController
from service.web.backoffice.agenda import AgendaController
from service.web.backoffice.attendance_lists import AttendanceListController
from service.web.backoffice.audit_pages import AuditPagesController
from service.web.backoffice.auth_pages import AuthPagesController
from service.web.backoffice.calendars import CalendarsController
from service.web.backoffice.check_in import CheckInController
from service.web.backoffice.consultation import ConsultationController
from service.web.backoffice.dashboard import DashboardController
from service.web.backoffice.door_prints import DoorPrintsController
from service.web.backoffice.emails import EmailsController
from service.web.backoffice.event_copy import EventCopyController
from service.web.backoffice.event_feedback import EventFeedbackController
from service.web.backoffice.event_figures import EventFiguresController, YearFiguresController
from service.web.backoffice.events import EventEditorController
from service.web.backoffice.feedback_questions import FeedbackQuestionsController
from service.web.backoffice.group_translations import GroupTranslationsController
from service.web.backoffice.groups import GroupsController, MeetingSeriesController
from service.web.backoffice.materials import SessionMaterialsController
from service.web.backoffice.meetings import MeetingsController
from service.web.backoffice.messages import MessagesController
from service.web.backoffice.my_account import MyAccountController
from service.web.backoffice.password_pages import PasswordPagesController
from service.web.backoffice.people import PeopleController
from service.web.backoffice.personal_data import PersonalDataController
from service.web.backoffice.preview import PreviewController
from service.web.backoffice.privacy import PrivacyController
from service.web.backoffice.registration_import import RegistrationImportController
from service.web.backoffice.registration_new import RegistrationOnBehalfController
from service.web.backoffice.registrations import RegistrationsController
from service.web.backoffice.reminders import RemindersController
from service.web.backoffice.speakers import SpeakersController
from service.web.backoffice.translations import TranslationsController

BACKOFFICE_CONTROLLERS: list[Any] = [
    AuthPagesController,  # sign in, sign out
    DashboardController,  # upcoming events
    RegistrationsController,  # registrations per event
    RegistrationOnBehalfController,  # someone registered by an organiser
    RegistrationImportController,  # people registered from a spreadsheet
    AuditPagesController,  # audit log per event and account
    AccountsController,  # accounts and teams (admins)
    PasswordPagesController,  # invitations, resets
    PeopleController,  # people and organisations
    SpeakersController,  # an event's speakers and links
    CalendarsController,  # feed links to copy
    EventEditorController,  # events and their sessions
    EventCopyController,  # an event copied to other days
    EventFiguresController,  # an event's participation in figures
    EventFeedbackController,  # what registrants thought of an event
    FeedbackQuestionsController,  # an event's own feedback questions
    PreviewController,  # an event's public pages before publishing
    YearFiguresController,  # a year's programme in figures
    AgendaController,  # a session's agenda, paste an agenda
    SessionMaterialsController,  # a session's slides, recording and other links
    EmailsController,  # an event's outbox, previews, sending again
    MessagesController,  # write to registrants
    RemindersController,  # reminder schedule and policy
    MeetingsController,  # Meet-your-Buyer one-to-one meetings
    ConsultationController,  # Meet-your-Buyer: profile, documents, Q&A, report
    CheckInController,  # the day's check-in of an in-person event
    DoorPrintsController,  # a session's attendance sheet and name badges, to print
    AttendanceListController,  # who attended a session online, from a pasted report
    GroupsController,  # Interest Groups: editor, facilitators, members, minutes
    MeetingSeriesController,  # Interest Groups' meeting series and their occurrences
    PrivacyController,  # privacy notice, one person's data (admins)
    PersonalDataController,  # an event's retention dates and period
    MyAccountController,  # the signed-in organiser's own language
    TranslationsController,  # an event's content in other languages
    GroupTranslationsController,  # an Interest Group's texts in other languages
]
