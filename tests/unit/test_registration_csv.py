"""Spreadsheet formula injection in the organisers' CSV export, without a database."""

from __future__ import annotations

import pytest

from service.web.api_registration import neutralise_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+31 20 123 4567", "'+31 20 123 4567"),
        ("-2+3", "'-2+3"),
        ("@Stadt Zürich", "'@Stadt Zürich"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("Ana = Silva", "Ana = Silva"),
        ("", ""),
        (42, 42),
    ],
)
def test_cells_that_a_spreadsheet_would_run_become_text(value: object, expected: object) -> None:
    assert neutralise_cell(value) == expected
