"""Derive `accountree/resolve/data/elf_legal_forms.tsv` from GLEIF's ISO 20275 ELF code list (CC0).

    python scripts/derive_elf_forms.py ../shared/data/gleif-elf-legal-forms/2023-09-28-elf-code-list-v1.5.csv

Keeps the active (ACTV) forms: every abbreviation (local and transliterated), and the full local /
transliterated name when it has two words or more, or one word of 12+ letters ("Aktiengesellschaft",
not "Association": a one-word generic name is too often part of a company's own name). Each spelling
is labelled with the form's first abbreviation (its name when it has none), so that "Naamloze
Vennootschap" and "N.V." are one legal form for the resolver's guard.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "accountree" / "resolve" / "data" / "elf_legal_forms.tsv"
HEADER = """# Legal-form spellings of every country in ISO 20275 (Entity Legal Forms), DERIVED from GLEIF's
# ELF code list v1.5 (2023-09-28), file 2023-09-28-elf-code-list-v1.5.csv (GLEIF data: CC0).
# Made by scripts/derive_elf_forms.py: active forms; abbreviations (local and transliterated) and
# full names of 2+ words or one word of 12+ letters. Columns: ISO 3166-1 country, label (the form's
# first abbreviation, else its name), spelling.
"""


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\n", ";").split(";") if v.strip()]


def derive(path: str) -> list[tuple[str, str, str]]:
    rows: set[tuple[str, str, str]] = set()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["ELF Status ACTV/INAC"] != "ACTV" or not r["Country Code (ISO 3166-1)"]:
                continue
            abbrevs = _split(r["Abbreviations Local language"]) + _split(r["Abbreviations transliterated"])
            names = [n for n in (r["Entity Legal Form name Local name"].strip(),
                                 r["Entity Legal Form name Transliterated name (per ISO 01-140-10)"].strip()) if n]
            if not names and not abbrevs:
                continue
            label = abbrevs[0] if abbrevs else names[0]
            for spelling in abbrevs:
                rows.add((r["Country Code (ISO 3166-1)"], label, spelling))
            for name in names:
                words = name.split()
                if len(words) >= 2 or len(name) >= 12:
                    rows.add((r["Country Code (ISO 3166-1)"], label, name))
    return sorted(rows)


def main() -> None:
    rows = derive(sys.argv[1])
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for country, label, spelling in rows:
            fh.write(f"{country}\t{label}\t{spelling}\n")
    print(f"{len(rows)} spellings -> {OUT}")


if __name__ == "__main__":
    main()
