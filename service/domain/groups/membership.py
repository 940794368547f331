"""Joining and leaving an Interest Group: express interest, the facilitator's decision, leave.

Anyone can express interest through the group's form (no account): the person is recorded
as `interested`, gets an acknowledgement, and the facilitators are told. Only people of
Participants and Strategic Partners of the network can be approved (the organisation's
`standing`); the facilitator declines the others, and the decline email says why. Approval
and decline each send one email; an approved member's email carries their private page
link, and the REQUEST of every current meeting series follows (`meetings`); a member who
leaves gets their CANCEL. Every email is queued in the same transaction as the change. Takes `db` and `now`,
flushes, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.addresses import AddressRefused, accept_address
from notifications.message import EmailMessage
from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import (
    AccessPurpose,
    AccessToken,
    GroupMember,
    GroupMemberStatus,
    InterestGroup,
    NetworkStanding,
    Organisation,
)
from service.domain import access, urls, wording
from service.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from service.domain.groups.erased import is_erased, is_reachable
from service.domain.groups.groups import get_group, list_facilitators
from service.domain.groups.meetings import (
    invite_member_to_group_meetings,
    withdraw_member_from_group_meetings,
)
from service.domain.groups.translations import group_text
from service.domain.text import clean_line, clean_text
from service.i18n import current_language, is_language, supported, use_language
from service.i18n import gettext as _
from service.settings import Settings

ELIGIBLE_STANDINGS = frozenset({NetworkStanding.PARTICIPANT, NetworkStanding.STRATEGIC_PARTNER})
INTEREST_RECEIVED_TEMPLATE = "group_interest_received_to_member"
INTEREST_TO_FACILITATOR_TEMPLATE = "group_interest_to_facilitator"
APPROVED_TEMPLATE = "group_member_approved_to_member"
DECLINED_TEMPLATE = "group_member_declined_to_member"
# Those who may still be decided on (again): a declined person may be approved later.
DECIDABLE = frozenset({GroupMemberStatus.INTERESTED, GroupMemberStatus.DECLINED,
                       GroupMemberStatus.LEFT})


@dataclass(frozen=True)
class InterestForm:
    """What a visitor sends with the "express interest" form."""

    name: str
    email: str
    organisation_name: str
    message: str = ""
    # The language they read (every email to them is in it); None: the page's language.
    language: str | None = None


@dataclass(frozen=True)
class MemberLinks:
    page_url: str
    feed_url: str


def is_eligible(organisation: Organisation | None) -> bool:
    return organisation is not None and organisation.standing in ELIGIBLE_STANDINGS


def _checked_form(form: InterestForm) -> tuple[str, str, str, str | None]:
    """Every broken rule at once, or the cleaned name, address, organisation and message."""
    problems: list[FieldError] = []
    cleaned: dict[str, str | None] = {}
    for name, value, required, limit in (("name", form.name, True, 200),
                                         ("organisation_name", form.organisation_name, True, 200)):
        try:
            cleaned[name] = clean_line(value, name, required=required, max_length=limit)
        except InvalidInputError as error:
            message = (_("Enter your name.") if name == "name" else _("Enter your organisation.")) \
                if not (value or "").strip() else error.message
            problems.append(FieldError(name, message))
    try:
        cleaned["message"] = clean_text(form.message, "message", max_length=2_000)
    except InvalidInputError as error:
        problems.extend(error.errors)
    email = ""
    try:
        email = accept_address(form.email[:320])
    except AddressRefused as refused:
        problems.append(FieldError("email", str(refused)))
    if form.language is not None and not is_language(form.language):
        problems.append(FieldError("language", _("Choose one of the languages offered.")))
    if problems:
        raise InvalidInputError.of(problems)
    return str(cleaned["name"]), email, str(cleaned["organisation_name"]), cleaned["message"]


async def _organisation_named(db: AsyncSession, name: str) -> Organisation | None:
    return await db.scalar(select(Organisation).where(
        func.lower(Organisation.name) == name.lower()).order_by(Organisation.id).limit(1))


def _group_context(group: InterestGroup, settings: Settings, language: str
                   ) -> dict[str, object]:
    """What every group email says of the group, in the reader's language."""
    return {"group_topic": group_text(group, "topic", language),
            "group_url": urls.group_page_url(settings, group.slug)}


async def express_interest(db: AsyncSession, group: InterestGroup, form: InterestForm, *,
                           now: datetime, settings: Settings) -> GroupMember:
    """Record the person as interested (once per address and group) and tell them and the
    facilitators, once. A member who sends the form again stays a member, and nothing is
    sent: the answer is the same either way, so the form never tells who is a member."""
    name, email, organisation_name, message = _checked_form(form)
    key = email.lower()
    member = await db.scalar(select(GroupMember).where(GroupMember.group_id == group.id,
                                                       GroupMember.email_normalised == key))
    if member is not None and member.status == GroupMemberStatus.MEMBER:
        return member
    # Sent again while waiting: what they wrote is updated, nobody is emailed twice.
    is_news = member is None or member.status != GroupMemberStatus.INTERESTED
    organisation = await _organisation_named(db, organisation_name)
    if member is None:
        member = GroupMember(group_id=group.id, email_normalised=key, created_at=now)
        db.add(member)
    member.name, member.email = name, email
    member.organisation_name = organisation_name
    member.organisation_id = organisation.id if organisation is not None else None
    member.status = GroupMemberStatus.INTERESTED
    member.message = message
    member.language = supported(form.language or current_language())
    member.decision_note = member.decided_at = member.left_at = None
    member.updated_at = now
    await db.flush()
    if not is_news:
        return member
    context = {**_group_context(group, settings, member.language), "recipient_name": name,
               "member_name": name, "member_email": email,
               "organisation_name": organisation_name, "message": message or ""}
    entries = [OutboxEntry(EmailMessage(template=INTEREST_RECEIVED_TEMPLATE, to_address=email,
                                        to_name=name, context=context,
                                        language=member.language),
                           group_member_id=member.id)]
    for facilitator in await list_facilitators(db, group.id):
        if facilitator.email:
            # The facilitator reads it in their own language, not the visitor's.
            entries.append(OutboxEntry(EmailMessage(
                template=INTEREST_TO_FACILITATOR_TEMPLATE, to_address=facilitator.email,
                to_name=facilitator.name,
                context={**context, **_group_context(group, settings,
                                                     supported(facilitator.language)),
                         "recipient_name": facilitator.name,
                         "decide_url": f"{settings.public_base_url}/organiser/groups/"
                                       f"{group.id}/members"},
                language=supported(facilitator.language)),
                person_id=facilitator.id))
    await queue_emails(db, entries, settings=settings, now=now)
    return member


async def get_member(db: AsyncSession, member_id: int) -> GroupMember:
    member = await db.get(GroupMember, member_id)
    if member is None:
        raise NotFoundError(_("No group member with id %(member_id)s.")
                                % {"member_id": member_id}, "group_member_id")
    return member


async def member_links(db: AsyncSession, member: GroupMember, *, now: datetime,
                       settings: Settings) -> MemberLinks:
    """The member's private page and personal feed (each issued on first use)."""
    page = await access.group_member_token(db, member.id, AccessPurpose.GROUP_MEMBER_PAGE,
                                           secret_key=settings.secret_key, now=now)
    feed = await access.group_member_token(db, member.id, AccessPurpose.GROUP_MEMBER_FEED,
                                           secret_key=settings.secret_key, now=now)
    return MemberLinks(page_url=urls.group_member_page_url(settings, page),
                       feed_url=urls.group_member_feed_url(settings, feed))


def _refuse_erased(member: GroupMember) -> None:
    """A person whose data was erased cannot be approved or declined: nobody would hear."""
    if is_erased(member):
        raise ConflictError(_("This person's personal data was erased: there is nobody to "
                            "approve or decline."), "group_member_id")


async def approve_member(db: AsyncSession, member_id: int, *, now: datetime,
                         settings: Settings, organisation_id: int | None = None,
                         note: str | None = None) -> GroupMember:
    """Make the person a member, for an organisation of the directory that is a Participant
    or Strategic Partner (`organisation_id`, or the one their form named), and email them
    their private link."""
    member = await get_member(db, member_id)
    _refuse_erased(member)
    if member.status not in DECIDABLE:
        raise ConflictError(_("%(name)s is a member already.") % {"name": member.name}, "group_member_id")
    chosen = organisation_id if organisation_id is not None else member.organisation_id
    organisation = await db.get(Organisation, chosen) if chosen is not None else None
    if organisation is None:
        raise ConflictError(_("Choose the person's organisation from the directory first."),
                            "organisation_id")
    if not is_eligible(organisation):
        raise ConflictError(
            _("%(name)s is %(standing)s: %(rule)s Decline with a note, or change "
                  "the organisation's standing first.")
                % {"name": organisation.name,
                   "standing": wording.STANDING_LABELS[organisation.standing].lower(),
                   "rule": wording.GROUP_ELIGIBILITY_RULE}, "organisation_id")
    cleaned_note = clean_text(note, "note", max_length=2_000)
    member.organisation_id = organisation.id
    member.status = GroupMemberStatus.MEMBER
    member.decision_note, member.decided_at, member.left_at = cleaned_note, now, None
    member.updated_at = now
    await db.flush()
    group = await get_group(db, member.group_id)
    links = await member_links(db, member, now=now, settings=settings)
    await queue_emails(db, [OutboxEntry(EmailMessage(
        template=APPROVED_TEMPLATE, to_address=member.email, to_name=member.name,
        context={**_group_context(group, settings, supported(member.language)),
                 "recipient_name": member.name,
                 "organisation_name": organisation.name, "note": cleaned_note or "",
                 "page_url": links.page_url, "feed_url": links.feed_url},
        language=supported(member.language)),
        group_member_id=member.id)], settings=settings, now=now)
    await invite_member_to_group_meetings(db, member, now=now, settings=settings)
    return member


async def decline_member(db: AsyncSession, member_id: int, *, now: datetime,
                         settings: Settings, note: str | None = None) -> GroupMember:
    """Tell the person they cannot join, with the facilitator's note; when their
    organisation is not a Participant or Strategic Partner, the email says so."""
    member = await get_member(db, member_id)
    _refuse_erased(member)
    if member.status != GroupMemberStatus.INTERESTED:
        raise ConflictError(_("%(name)s is not waiting for a decision.")
                                % {"name": member.name}, "group_member_id")
    cleaned_note = clean_text(note, "note", max_length=2_000)
    organisation = (await db.get(Organisation, member.organisation_id)
                    if member.organisation_id is not None else None)
    member.status = GroupMemberStatus.DECLINED
    member.decision_note, member.decided_at = cleaned_note, now
    member.updated_at = now
    await db.flush()
    group = await get_group(db, member.group_id)
    # In the person's language, whichever the facilitator reads.
    with use_language(member.language) as language:
        message = EmailMessage(
            template=DECLINED_TEMPLATE, to_address=member.email, to_name=member.name,
            context={**_group_context(group, settings, language),
                     "recipient_name": member.name,
                     "organisation_name": organisation.name if organisation
                     else member.organisation_name,
                     "note": cleaned_note or "", "not_eligible": not is_eligible(organisation),
                     "eligibility_rule": wording.group_eligibility_rule()},
            language=language)
    await queue_emails(db, [OutboxEntry(message, group_member_id=member.id)],
                       settings=settings, now=now)
    return member


async def find_member_by_token(db: AsyncSession, token: str) -> GroupMember:
    """The member whose private page link this is (unknown and revoked look the same)."""
    found = await access.find_access(db, AccessPurpose.GROUP_MEMBER_PAGE, token)
    member = (await db.get(GroupMember, found.group_member_id)
              if found is not None and found.group_member_id is not None else None)
    if member is None:
        raise NotFoundError(_("This link is not valid."), "token")
    return member


async def leave_group(db: AsyncSession, member: GroupMember, *, now: datetime,
                      settings: Settings) -> GroupMember:
    """The person leaves: the group's series are cancelled in their calendar, no more
    invitations or reminders; their personal feed stops working. Their private page stays,
    saying they left. Leaving twice changes nothing."""
    if member.status != GroupMemberStatus.MEMBER:
        return member
    member.status = GroupMemberStatus.LEFT
    member.left_at = member.updated_at = now
    for row in await db.scalars(select(AccessToken).where(
            AccessToken.group_member_id == member.id,
            AccessToken.purpose == AccessPurpose.GROUP_MEMBER_FEED,
            AccessToken.revoked_at.is_(None))):
        row.revoked_at = now
    await db.flush()
    await withdraw_member_from_group_meetings(db, member, now=now, settings=settings)
    return member


@dataclass(frozen=True)
class MemberRow:
    """A row of the back office's member list."""

    member: GroupMember
    organisation: Organisation | None

    @property
    def is_eligible(self) -> bool:
        return is_eligible(self.organisation)


async def list_members(db: AsyncSession, group_id: int) -> list[MemberRow]:
    """Everyone who expressed interest or is or was a member: waiting first, then by name."""
    order = {GroupMemberStatus.INTERESTED: 0, GroupMemberStatus.MEMBER: 1,
             GroupMemberStatus.DECLINED: 2, GroupMemberStatus.LEFT: 3}
    rows = (await db.execute(
        select(GroupMember, Organisation)
        .outerjoin(Organisation, Organisation.id == GroupMember.organisation_id)
        .where(GroupMember.group_id == group_id))).all()
    found = [MemberRow(member=m, organisation=o) for m, o in rows]
    return sorted(found, key=lambda r: (order[r.member.status], r.member.name.lower(),
                                        r.member.id))


async def current_members(db: AsyncSession, group_id: int) -> list[GroupMember]:
    return list(await db.scalars(select(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.status == GroupMemberStatus.MEMBER,
        is_reachable(GroupMember))
        .order_by(GroupMember.id)))
