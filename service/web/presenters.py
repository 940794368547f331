"""Model objects to read schemas. The public shapes are built from public fields only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from service.db.models import (
    AgendaItem,
    AgendaItemSpeaker,
    Event,
    Organisation,
    Person,
    Session,
    SessionMaterial,
)
from service.domain import urls
from service.domain.calendars.entries import session_entry
from service.domain.calendars.ical import google_calendar_link, outlook_calendar_link
from service.domain.programme.translations import localised, payload_translations
from service.domain.times import in_zone, iso_utc
from service.settings import Settings
from service.web import schemas


def time_out(instant: datetime, zone: str) -> schemas.TimeOut:
    shown = in_zone(instant, zone)
    return schemas.TimeOut(
        utc=iso_utc(shown.utc),
        local=shown.local.isoformat(),
        zone=zone,
        abbreviation=shown.abbreviation,
        utc_offset=shown.utc_offset,
    )


def organisation_out(organisation: Organisation) -> schemas.OrganisationOut:
    return schemas.OrganisationOut(
        id=organisation.id,
        name=organisation.name,
        kind=organisation.kind,
        country=organisation.country,
        website=organisation.website,
    )


def organiser_organisation_out(organisation: Organisation) -> schemas.OrganiserOrganisationOut:
    return schemas.OrganiserOrganisationOut(
        **{f: getattr(organisation_out(organisation), f)
           for f in schemas.OrganisationOut.__struct_fields__},
        standing=organisation.standing,
    )


def person_out(person: Person) -> schemas.PersonOut:
    return schemas.PersonOut(
        id=person.id,
        name=person.name,
        email=person.email,
        job_title=person.job_title,
        organisation=organisation_out(person.organisation) if person.organisation else None,
    )


def speaker_out(speaker: AgendaItemSpeaker) -> schemas.SpeakerOut:
    organisation = speaker.organisation or speaker.person.organisation
    return schemas.SpeakerOut(
        person_id=speaker.person_id,
        name=speaker.person.name,
        job_title=speaker.person.job_title,
        organisation=organisation.name if organisation else None,
        organisation_id=organisation.id if organisation else None,
    )


def agenda_item_out(item: AgendaItem, zone: str, event: Event | None = None,
                    language: str | None = None) -> schemas.AgendaItemOut:
    """`event` and `language`: the title and description in that language where they were
    translated."""
    return schemas.AgendaItemOut(
        id=item.id,
        title=str(localised(event, "title", language, item)) if event else item.title,
        kind=item.kind,
        description=str(localised(event, "description", language, item)) if event
        else item.description,
        starts=time_out(item.starts_at, zone),
        ends=time_out(item.ends_at, zone),
        speakers=[speaker_out(s) for s in item.speakers],
    )




def _session_fields(session: Session, zone: str, settings: Settings, event: Event | None = None,
                    language: str | None = None) -> dict[str, object]:
    return {
        "id": session.id,
        "title": str(localised(event, "title", language, session)) if event else session.title,
        "description": str(localised(event, "description", language, session)) if event
        else session.description,
        "mode": session.mode,
        "status": session.status,
        "starts": time_out(session.starts_at, zone),
        "ends": time_out(session.ends_at, zone),
        "capacity": session.capacity,
        "agenda": [agenda_item_out(i, zone, event, language) for i in session.agenda_items],
        "ics_url": urls.session_download_url(settings, session.id),
    }


def session_out(session: Session, zone: str, settings: Settings) -> schemas.SessionOut:
    return schemas.SessionOut(**_session_fields(session, zone, settings))  # type: ignore[arg-type]


def public_session_out(session: Session, event: Event, settings: Settings,
                       language: str | None = None,
                       materials: Sequence[SessionMaterial] = ()) -> schemas.PublicSessionOut:
    """`materials`: the session's public ones (`programme.materials.session_materials`)."""
    entry = session_entry(session, event, settings, include_join_url=False)
    return schemas.PublicSessionOut(
        **_session_fields(session, event.timezone, settings, event,  # type: ignore[arg-type]
                          language),
        google_calendar_url=google_calendar_link(entry),
        outlook_calendar_url=outlook_calendar_link(entry),
        materials=[schemas.MaterialOut(title=str(localised(event, "title", language, m)),
                                       url=m.url) for m in materials],
    )


def organiser_session_out(
    session: Session, zone: str, settings: Settings,
    translations: dict[str, dict[str, str]] | None = None,
) -> schemas.OrganiserSessionOut:
    return schemas.OrganiserSessionOut(
        **_session_fields(session, zone, settings),  # type: ignore[arg-type]
        join_url=session.join_url,
        sequence=session.sequence,
        event_id=session.event_id,
        translations=translations or {},
    )


def materials_out(materials: Sequence[SessionMaterial]) -> schemas.MaterialsOut:
    """A session's materials as organisers read them: both lists, titles as written."""
    def listed(for_registrants: bool) -> list[schemas.MaterialOut]:
        return [schemas.MaterialOut(title=m.title, url=m.url) for m in materials
                if m.is_for_registrants == for_registrants]

    return schemas.MaterialsOut(public=listed(False), for_registrants=listed(True))


def organiser_agenda_item_out(item: AgendaItem, event: Event) -> schemas.OrganiserAgendaItemOut:
    """An agenda item with its title in other languages (`event` with its translations)."""
    return schemas.OrganiserAgendaItemOut(
        **{f: getattr(agenda_item_out(item, event.timezone), f)
           for f in schemas.AgendaItemOut.__struct_fields__},
        translations=payload_translations(event, item),
    )




def _summary_fields(event: Event, settings: Settings,
                    language: str | None = None) -> dict[str, object]:
    """`language`: the event's texts in it where translated (None: the event's own)."""
    sessions = event.sessions
    has_venue = any([event.venue_name, event.venue_address, event.venue_city])
    title = localised(event, "title", language)
    return {
        "id": event.id,
        "kind": event.kind,
        "title": str(title),
        "slug": event.slug,
        "summary": str(localised(event, "summary", language)),
        "status": event.status,
        "timezone": event.timezone,
        "starts": time_out(sessions[0].starts_at, event.timezone) if sessions else None,
        "ends": time_out(max(s.ends_at for s in sessions), event.timezone) if sessions else None,
        "host": organisation_out(event.host_organisation) if event.host_organisation else None,
        "venue": schemas.VenueOut(
            name=event.venue_name, address=event.venue_address, city=event.venue_city,
            country=event.venue_country,
        ) if has_venue else None,
        "is_sample_data": event.is_sample_data,
        "url": urls.event_page_url(settings, event.slug),
        "language": title.language,
        "default_language": event.default_language,
    }


def event_summary_out(event: Event, settings: Settings,
                      language: str | None = None) -> schemas.EventSummaryOut:
    return schemas.EventSummaryOut(
        **_summary_fields(event, settings, language))  # type: ignore[arg-type]


def _event_fields(event: Event, settings: Settings,
                  language: str | None = None) -> dict[str, object]:
    zone = event.timezone
    feed = urls.event_feed_url(settings, event.slug)
    return {
        **_summary_fields(event, settings, language),
        "description": str(localised(event, "description", language)),
        "capacity": event.capacity,
        "is_approval_required": event.is_approval_required,
        "allows_session_choice": event.allows_session_choice,
        "registration_opens": time_out(event.registration_opens_at, zone)
        if event.registration_opens_at else None,
        "registration_closes": time_out(event.registration_closes_at, zone)
        if event.registration_closes_at else None,
        "feed_url": feed,
        "webcal_url": urls.webcal_url(feed),
    }


def event_out(event: Event, settings: Settings, language: str | None = None,
              materials: Mapping[int, Sequence[SessionMaterial]] | None = None
              ) -> schemas.EventOut:
    """`materials`: the sessions' public ones, by session."""
    return schemas.EventOut(
        **_event_fields(event, settings, language),  # type: ignore[arg-type]
        sessions=[public_session_out(s, event, settings, language, (materials or {}).get(s.id, ()))
                  for s in event.sessions],
    )


def organiser_event_out(event: Event, settings: Settings) -> schemas.OrganiserEventOut:
    return schemas.OrganiserEventOut(
        **_event_fields(event, settings),  # type: ignore[arg-type]
        sessions=[organiser_session_out(s, event.timezone, settings,
                                        payload_translations(event, s))
                  for s in event.sessions],
        contact_email=event.contact_email,
        registrant_note=event.registrant_note,
        is_address_confirmation_required=event.is_address_confirmation_required,
        reminder_offsets_minutes=event.reminder_offsets_minutes,
        created_at=iso_utc(event.created_at),
        updated_at=iso_utc(event.updated_at),
        published_at=iso_utc(event.published_at) if event.published_at else None,
        translations=payload_translations(event),
    )
