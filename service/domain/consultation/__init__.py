"""Meet-your-Buyer as a market consultation: the buyer's profile, documents and questions
shared with every registered supplier, one-to-one meetings, attendance, and the report for
the procurement file.

Plain async functions over a database session and an explicit `now`; they flush, never
commit, and know no HTTP. Each part of the consultation adds its names below, one a line.
"""

from service.domain.consultation.cpv import CpvCode as CpvCode
from service.domain.consultation.cpv import find_cpv_codes as find_cpv_codes
from service.domain.consultation.cpv import parse_cpv_codes as parse_cpv_codes
from service.domain.consultation.documents import MAX_DOCUMENT_BYTES as MAX_DOCUMENT_BYTES
from service.domain.consultation.documents import DocumentFile as DocumentFile
from service.domain.consultation.documents import UploadedFile as UploadedFile
from service.domain.consultation.documents import document_url as document_url
from service.domain.consultation.documents import list_documents as list_documents
from service.domain.consultation.documents import read_document_file as read_document_file
from service.domain.consultation.documents import share_document as share_document
from service.domain.consultation.documents import withdraw_document as withdraw_document
from service.domain.consultation.meetings import MeetingReminderProblem as MeetingReminderProblem
from service.domain.consultation.meetings import ReportMeeting as ReportMeeting
from service.domain.consultation.meetings import (
    meeting_reminder_schedule as meeting_reminder_schedule,
)
from service.domain.consultation.profile import PROCEDURE_LABELS as PROCEDURE_LABELS
from service.domain.consultation.profile import ProfileInput as ProfileInput
from service.domain.consultation.profile import ProfileView as ProfileView
from service.domain.consultation.profile import euro_text as euro_text
from service.domain.consultation.profile import find_profile as find_profile
from service.domain.consultation.profile import load_consultation_event as load_consultation_event
from service.domain.consultation.profile import persons_of as persons_of
from service.domain.consultation.profile import save_profile as save_profile
from service.domain.consultation.questions import PublishedQuestion as PublishedQuestion
from service.domain.consultation.questions import ask_question as ask_question
from service.domain.consultation.questions import list_questions as list_questions
from service.domain.consultation.questions import public_asker as public_asker
from service.domain.consultation.questions import publish_answer as publish_answer
from service.domain.consultation.questions import published_questions as published_questions
from service.domain.consultation.questions import record_question as record_question
from service.domain.consultation.report import ConsultationReport as ConsultationReport
from service.domain.consultation.report import consultation_report as consultation_report
