"""Organiser accounts: teams, sign-in (passwords, throttling, sessions), what each account
may see and change, invitations, password resets and the audit log. Knows no HTTP."""

from service.domain.accounts.actors import Actor, actor_of, set_actor
from service.domain.accounts.authentication import SignInOutcome, authenticate
from service.domain.accounts.directory import (
    DEFAULT_TEAM_NAME,
    SignedInAccount,
    account_team_ids,
    create_account,
    default_team_id,
    find_account_by_email,
    find_or_create_team,
    get_account,
    list_accounts,
    list_teams,
    normalise_email,
    set_account_teams,
    signed_in_account,
)
from service.domain.accounts.passwords import (
    MIN_LENGTH,
    check_new_password,
    hash_password,
    password_problems,
    verify_password,
)
from service.domain.accounts.scope import (
    can_edit_event,
    can_see_event,
    list_visible_events,
    visible_event_ids,
    visible_events_filter,
)
from service.domain.accounts.sessions import (
    SessionTimeouts,
    StartedSession,
    end_account_sessions,
    end_session,
    find_session,
    session_id_for,
    start_session,
)

__all__ = [
    "DEFAULT_TEAM_NAME",
    "MIN_LENGTH",
    "Actor",
    "SessionTimeouts",
    "SignInOutcome",
    "SignedInAccount",
    "StartedSession",
    "account_team_ids",
    "actor_of",
    "authenticate",
    "can_edit_event",
    "can_see_event",
    "check_new_password",
    "create_account",
    "default_team_id",
    "end_account_sessions",
    "end_session",
    "find_account_by_email",
    "find_or_create_team",
    "find_session",
    "get_account",
    "hash_password",
    "list_accounts",
    "list_teams",
    "list_visible_events",
    "normalise_email",
    "password_problems",
    "session_id_for",
    "set_account_teams",
    "set_actor",
    "signed_in_account",
    "start_session",
    "verify_password",
    "visible_event_ids",
    "visible_events_filter",
]
