"""The events programme: organisations, people, events, sessions and their timed agendas.

Plain async functions over a database session and an explicit `now`, taking the typed input
shapes of `inputs`. They validate the organisers' rules (agenda items inside their session,
no overlaps, no ambiguous local times), `flush()` but never commit, and know nothing of
HTTP. Changes are announced as signals: this package never decides what follows them.
"""

from service.domain.programme.agenda import add_agenda_item as add_agenda_item
from service.domain.programme.agenda import agenda_day as agenda_day
from service.domain.programme.agenda import (
    agenda_item_text_problems as agenda_item_text_problems,
)
from service.domain.programme.agenda import delete_agenda_item as delete_agenda_item
from service.domain.programme.agenda import move_agenda_item as move_agenda_item
from service.domain.programme.agenda import update_agenda_item as update_agenda_item
from service.domain.programme.agenda_paste import AgendaMatches as AgendaMatches
from service.domain.programme.agenda_paste import PastedAgenda as PastedAgenda
from service.domain.programme.agenda_paste import create_pasted_agenda as create_pasted_agenda
from service.domain.programme.agenda_paste import find_agenda_matches as find_agenda_matches
from service.domain.programme.agenda_review import AgendaProblem as AgendaProblem
from service.domain.programme.agenda_review import review_agenda as review_agenda
from service.domain.programme.agenda_text import ParsedAgenda as ParsedAgenda
from service.domain.programme.agenda_text import parse_agenda_text as parse_agenda_text
from service.domain.programme.copying import EventCopy as EventCopy
from service.domain.programme.copying import copy_event as copy_event
from service.domain.programme.copying import first_session_day as first_session_day
from service.domain.programme.copying import proposed_copy as proposed_copy
from service.domain.programme.directory import search_organisations as search_organisations
from service.domain.programme.directory import search_persons as search_persons
from service.domain.programme.events import SLUG_PATTERN as SLUG_PATTERN
from service.domain.programme.events import assign_event_team as assign_event_team
from service.domain.programme.events import cancel_event as cancel_event
from service.domain.programme.events import create_event as create_event
from service.domain.programme.events import delete_event as delete_event
from service.domain.programme.events import publish_event as publish_event
from service.domain.programme.events import slugify as slugify
from service.domain.programme.events import unpublish_event as unpublish_event
from service.domain.programme.events import update_event as update_event
from service.domain.programme.inputs import AgendaItemCreate as AgendaItemCreate
from service.domain.programme.inputs import AgendaItemUpdate as AgendaItemUpdate
from service.domain.programme.inputs import EventCreate as EventCreate
from service.domain.programme.inputs import EventUpdate as EventUpdate
from service.domain.programme.inputs import OrganisationCreate as OrganisationCreate
from service.domain.programme.inputs import OrganisationUpdate as OrganisationUpdate
from service.domain.programme.inputs import PersonCreate as PersonCreate
from service.domain.programme.inputs import PersonUpdate as PersonUpdate
from service.domain.programme.inputs import SessionCreate as SessionCreate
from service.domain.programme.inputs import SessionUpdate as SessionUpdate
from service.domain.programme.inputs import SpeakerRef as SpeakerRef
from service.domain.programme.loading import EventFilter as EventFilter
from service.domain.programme.loading import Page as Page
from service.domain.programme.loading import find_speaker_items as find_speaker_items
from service.domain.programme.loading import get_agenda_item as get_agenda_item
from service.domain.programme.loading import get_event as get_event
from service.domain.programme.loading import get_published_event as get_published_event
from service.domain.programme.loading import get_session as get_session
from service.domain.programme.loading import list_events as list_events
from service.domain.programme.merging import merge_organisations as merge_organisations
from service.domain.programme.merging import merge_persons as merge_persons
from service.domain.programme.merging import plan_organisation_merge as plan_organisation_merge
from service.domain.programme.merging import plan_person_merge as plan_person_merge
from service.domain.programme.people import create_organisation as create_organisation
from service.domain.programme.people import create_person as create_person
from service.domain.programme.people import delete_organisation as delete_organisation
from service.domain.programme.people import delete_person as delete_person
from service.domain.programme.people import (
    find_or_create_organisation as find_or_create_organisation,
)
from service.domain.programme.people import find_or_create_person as find_or_create_person
from service.domain.programme.people import get_organisation as get_organisation
from service.domain.programme.people import get_person as get_person
from service.domain.programme.people import list_organisations as list_organisations
from service.domain.programme.people import list_persons as list_persons
from service.domain.programme.people import update_organisation as update_organisation
from service.domain.programme.people import update_person as update_person
from service.domain.programme.sessions import MAX_SESSION_LENGTH as MAX_SESSION_LENGTH
from service.domain.programme.sessions import add_session as add_session
from service.domain.programme.sessions import cancel_session as cancel_session
from service.domain.programme.sessions import delete_session as delete_session
from service.domain.programme.sessions import is_hybrid as is_hybrid
from service.domain.programme.sessions import (
    offers_session_choice as offers_session_choice,
)
from service.domain.programme.sessions import update_session as update_session
