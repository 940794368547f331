"""Passwords: argon2id hashes and the rules a new password must meet.

Only hashes are stored. The rules are few and explained to the person choosing: long
enough, and not made of the account's own address or name (the first things an attacker
who knows whom they target would try).
"""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.domain.errors import FieldError, InvalidInputError
from service.i18n import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 1000  # argon2 takes any length; this bounds the work a request can ask for
_NAME_PART_MIN = 4


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended costs


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an account without a password matches nothing, after
    the same work as a real check, so timing does not tell which addresses have accounts."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password anyone has")


def password_problems(password: str, *, email: str, name: str) -> list[str]:
    """What is wrong with a new password, in words for the person choosing it."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(count)s characters.") % {"count": MIN_LENGTH})
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(count)s characters.") % {"count": MAX_LENGTH})
    lowered = password.casefold()
    local_part = email.split("@", 1)[0].casefold()
    if len(local_part) >= 3 and local_part in lowered:
        problems.append(_("Do not use your email address in your password."))
    squashed_name = re.sub(r"\s+", "", name).casefold()
    parts = [p for p in re.split(r"[\s\-'.]+", name.casefold()) if len(p) >= _NAME_PART_MIN]
    if (len(squashed_name) >= 3 and squashed_name in lowered.replace(" ", "")) or any(
            part in lowered for part in parts):
        problems.append(_("Do not use your name in your password."))
    return problems


def check_new_password(password: str, *, email: str, name: str, field: str = "password") -> None:
    """InvalidInputError naming `field` with every rule the password breaks."""
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise InvalidInputError.of([FieldError(field, " ".join(problems))])
