"""Personal data over its whole life: the privacy notice and consents, a person's own copy,
retention and erasure. Plain functions over a database session and an explicit `now`."""

from .export import address_hash as address_hash
from .export import export_personal_data as export_personal_data
from .export import normalise_address as normalise_address
from .export import record_personal_data_export as record_personal_data_export
from .notice import MAX_NOTICE as MAX_NOTICE
from .notice import current_notice as current_notice
from .notice import find_current_notice as find_current_notice
from .notice import get_notice_version as get_notice_version
from .notice import list_notice_versions as list_notice_versions
from .notice import notice_paragraphs as notice_paragraphs
from .notice import publish_notice as publish_notice
from .notice import withdraw_keep_informed as withdraw_keep_informed
from .requests import LINK_VALID_FOR as LINK_VALID_FOR
from .requests import DataLink as DataLink
from .requests import check_data_link as check_data_link
from .requests import expire_data_requests as expire_data_requests
from .requests import forget_data_requests as forget_data_requests
from .requests import live_data_link as live_data_link
from .requests import request_data_link as request_data_link
