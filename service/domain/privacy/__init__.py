"""Personal data over its whole life: erasure, retention (and, beside them, consent, the
privacy notice and a person's own copy).

Plain async functions over a database session and an explicit `now`; they flush, never
commit, know nothing of HTTP and log no personal data.
"""

from service.domain.privacy.erasure import ErasureSummary as ErasureSummary
from service.domain.privacy.erasure import erase_person as erase_person
from service.domain.privacy.erasure import erase_registration as erase_registration
from service.domain.privacy.erasure import (
    is_erased_registration_link as is_erased_registration_link,
)
from service.domain.privacy.retention import RetentionRun as RetentionRun
from service.domain.privacy.retention import anonymise_expired as anonymise_expired
