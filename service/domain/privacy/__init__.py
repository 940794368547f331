"""Personal data over its whole life: erasure, retention (and, beside them, consent, the
privacy notice and a person's own copy).

Plain async functions over a database session and an explicit `now`; they flush, never
commit, know nothing of HTTP and log no personal data.
"""

from service.domain.privacy.accounts import AccountErasure as AccountErasure
from service.domain.privacy.accounts import erase_account as erase_account
from service.domain.privacy.erasure import ErasureSummary as ErasureSummary
from service.domain.privacy.erasure import erase_person as erase_person
from service.domain.privacy.erasure import erase_registration as erase_registration
from service.domain.privacy.erasure import (
    is_erased_registration_link as is_erased_registration_link,
)
from service.domain.privacy.export import address_hash as address_hash
from service.domain.privacy.export import export_personal_data as export_personal_data
from service.domain.privacy.export import normalise_address as normalise_address
from service.domain.privacy.export import record_personal_data_export as record_personal_data_export
from service.domain.privacy.notice import MAX_NOTICE as MAX_NOTICE
from service.domain.privacy.notice import current_notice as current_notice
from service.domain.privacy.notice import find_current_notice as find_current_notice
from service.domain.privacy.notice import get_notice_version as get_notice_version
from service.domain.privacy.notice import list_notice_versions as list_notice_versions
from service.domain.privacy.notice import notice_paragraphs as notice_paragraphs
from service.domain.privacy.notice import notice_text_for as notice_text_for
from service.domain.privacy.notice import publish_notice as publish_notice
from service.domain.privacy.notice import withdraw_keep_informed as withdraw_keep_informed
from service.domain.privacy.requests import ADMIN_ERASURE_REASON as ADMIN_ERASURE_REASON
from service.domain.privacy.requests import LINK_VALID_FOR as LINK_VALID_FOR
from service.domain.privacy.requests import DataLink as DataLink
from service.domain.privacy.requests import check_data_link as check_data_link
from service.domain.privacy.requests import erase_by_link as erase_by_link
from service.domain.privacy.requests import erase_everything_held as erase_everything_held
from service.domain.privacy.requests import expire_data_requests as expire_data_requests
from service.domain.privacy.requests import forget_data_requests as forget_data_requests
from service.domain.privacy.requests import live_data_link as live_data_link
from service.domain.privacy.requests import request_data_link as request_data_link
from service.domain.privacy.retention import RetentionRun as RetentionRun
from service.domain.privacy.retention import anonymise_expired as anonymise_expired
