"""Every public address the service hands out, written once.

Pages, emails, invites, feeds and the API build links only through these functions, from
the configured public base URL; a private link carries its token and nothing else.
"""

from __future__ import annotations

from service.db.models import EventKind
from service.settings import Settings


def event_page_url(settings: Settings, slug: str) -> str:
    return f"{settings.public_base_url}/events/{slug}"


def registration_form_url(settings: Settings, slug: str) -> str:
    return f"{settings.public_base_url}/events/{slug}/register"


def address_confirmation_url(settings: Settings, slug: str, token: str) -> str:
    """The single-use link that confirms a registrant's address (it shows a button to press)."""
    return f"{settings.public_base_url}/events/{slug}/confirm/{token}"


def manage_url(settings: Settings, token: str) -> str:
    """A registrant's private page."""
    return f"{settings.public_base_url}/registrations/{token}"


def certificate_url(settings: Settings, token: str) -> str:
    """A registrant's certificate of attendance (behind their private page's token)."""
    return f"{manage_url(settings, token)}/certificate"


def feedback_url(settings: Settings, token: str) -> str:
    """A registrant's feedback form on the event (behind their private page's token)."""
    return f"{manage_url(settings, token)}/feedback"


def certificate_check_url(settings: Settings, token: str) -> str:
    """Where anyone the registrant shows their certificate to checks it (its own token)."""
    return f"{settings.public_base_url}/certificates/{token}"


def invite_url(settings: Settings, token: str) -> str:
    """A registrant's invite as a download."""
    return f"{settings.public_base_url}/api/registrations/{token}/invite.ics"


def speaker_page_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/speakers/{token}"


def programme_feed_url(settings: Settings) -> str:
    return f"{settings.public_base_url}/feeds/programme.ics"


def event_feed_url(settings: Settings, slug: str) -> str:
    return f"{settings.public_base_url}/feeds/events/{slug}.ics"


def kind_feed_url(settings: Settings, kind: EventKind) -> str:
    return f"{settings.public_base_url}/feeds/kinds/{kind}.ics"


def session_download_url(settings: Settings, session_id: int) -> str:
    return f"{settings.public_base_url}/feeds/sessions/{session_id}.ics"


def registration_feed_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/feeds/registrations/{token}.ics"


def speaker_feed_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/feeds/speakers/{token}.ics"


def organiser_feed_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/feeds/organisers/{token}.ics"


def webcal_url(url: str) -> str:
    """The same feed for calendar apps' "subscribe" (webcal:// instead of http(s)://)."""
    return "webcal://" + url.split("://", 1)[1]


def account_invitation_url(settings: Settings, token: str) -> str:
    """The single-use link where an invited organiser chooses their password."""
    return f"{settings.public_base_url}/organiser/invitations/{token}"


def password_reset_url(settings: Settings, token: str) -> str:
    """The single-use link where an organiser chooses a new password."""
    return f"{settings.public_base_url}/organiser/password-reset/{token}"


def groups_url(settings: Settings) -> str:
    """The Interest Groups list."""
    return f"{settings.public_base_url}/groups"


def group_page_url(settings: Settings, slug: str) -> str:
    return f"{settings.public_base_url}/groups/{slug}"


def group_feed_url(settings: Settings, slug: str, token: str | None = None) -> str:
    """A group's calendar; a members-only group's needs a member's feed token."""
    url = f"{settings.public_base_url}/groups/{slug}/calendar.ics"
    return url if token is None else f"{url}?token={token}"


def group_member_feed_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/groups/feed/{token}.ics"


def group_member_page_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/groups/me/{token}"
