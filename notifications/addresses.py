"""Which email addresses the service accepts, decided once, at the door.

Everything that takes an address from a person (registration form and API, speakers,
organisers) passes it through `accept_address`, so nothing is stored that mail cannot be
sent to. Look-alike forms are folded first (NFKC: a fullwidth "m" typed in
`mallory@example.org` becomes a plain one); an international domain travels as punycode; the part before
the @ must be plain ASCII (a non-ASCII one needs SMTPUTF8 end to end, which we do not
promise), and one address is one mailbox: no display names, lists or comments.
"""

from __future__ import annotations

import re
import unicodedata

from service.i18n import gettext as _

MAX_ADDRESS_LENGTH = 254  # RFC 5321's path limit, less the angle brackets

# RFC 5322 dot-atom text: what a local part may be without quoting.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*",
                         re.ASCII)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


class AddressRefused(ValueError):
    """The address cannot receive our emails; the message says what to change."""


def _ascii_domain(domain: str) -> str:
    """The domain in the form mail servers use: lower case, international labels as punycode."""
    labels = domain.rstrip(".").lower().split(".")
    if len(labels) < 2 or any(not label for label in labels):
        raise AddressRefused(_("The part after @ must be a domain such as example.org."))
    ascii_labels = []
    for label in labels:
        if not label.isascii():
            try:
                label = label.encode("idna").decode("ascii")
            except UnicodeError as error:
                raise AddressRefused(
                    _("The part after @ is not a domain that mail can reach.")) from error
        if not _LABEL.fullmatch(label):
            raise AddressRefused(_("The part after @ is not a domain that mail can reach."))
        ascii_labels.append(label)
    if ascii_labels[-1].isdigit():
        raise AddressRefused(_("The part after @ must be a domain such as example.org."))
    return ".".join(ascii_labels)


def accept_address(text: str) -> str:
    """The address as we store and send it, or `AddressRefused` saying what to change."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        raise AddressRefused(_("Give your email address, e.g. name@example.org."))
    if value.count("@") != 1:
        raise AddressRefused(_("Give one email address with one @, e.g. name@example.org."))
    local, domain = value.split("@")
    if not local or not domain:
        raise AddressRefused(_("Give a whole email address, e.g. name@example.org."))
    if not local.isascii():
        raise AddressRefused(
            _("Use an address whose part before @ has only Latin letters without accents, "
            "digits and . _ - + (mail to other characters cannot be guaranteed)."))
    if len(local) > 64:
        raise AddressRefused(_("The part before @ has at most 64 characters."))
    if not _LOCAL_PART.fullmatch(local):
        raise AddressRefused(
            _("The part before @ may only have letters, digits and . _ - + (no spaces, "
            "commas or angle brackets), and no dot at its start or end."))
    address = f"{local}@{_ascii_domain(domain)}"
    if len(address) > MAX_ADDRESS_LENGTH:
        raise AddressRefused(_("An email address has at most %(max_address_length)s characters.")
                                 % {"max_address_length": MAX_ADDRESS_LENGTH})
    return address
