"""Wrong merges seen on real labelled lists (issue 19), each with the real rows that showed it.

The rows are copied from the Chicago early-childhood sites (dedupe-examples, MIT; see
tests/fixtures/resolve/SOURCE.md): `Site name` as written by the source lists, `True Id` the site.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from accountree.bench.resolve_bench import _true_pairs, score_records
from accountree.resolve.guard import extra_words, same_word
from accountree.resolve.normalize import normalize_name

# (record id, site name, true site id): Chicago ECE sites
CHICAGO_ROWS = [
    ("1043", " Hughes, C.", "424760623"),
    ("2575", " Hughes, C.", "424760623"),
    ("2576", " Hughes, L.", "24060628"),
    ("1525", "CHICAGO PUBLIC SCHOOLS HUGHES, LANGSTON", "24060628"),
    ("2019", "Chicago Public Schools Hughes, Langston", "24060628"),
    ("963", " Talcott", "184060622"),
    ("2801", " Talcott", "184060622"),
    ("1319", " Alcott", "262560614"),
    ("2298", " Alcott", "262560614"),
]


def _predicted(rows: list[tuple[str, str, str]]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    records = pa.table({"account_id": [r[0] for r in rows], "name": [r[1] for r in rows]})
    truth = {r[0]: r[2] for r in rows}
    result = score_records(records, truth)
    return result["_predicted"], _true_pairs(truth)


def test_a_trailing_initial_is_kept() -> None:
    # "L." was dropped as the French article l': "Hughes, L." became "Hughes" and then one with "Hughes, C."
    assert normalize_name(" Hughes, L.") == "hughes l"
    assert normalize_name(" Hughes, C.") == "hughes c"
    assert normalize_name("L'Atelier Dufresne") == "latelier dufresne"  # a leading article is still one
    assert normalize_name(normalize_name(" Hughes, L.")) == normalize_name(" Hughes, L.")


@given(st.sampled_from(["Hughes", "Smith Jones", "Cooper Dual Language Academy"]),
       st.sampled_from(list("bcdlkst")))
def test_trailing_initial_idempotent(name: str, initial: str) -> None:
    once = normalize_name(f"{name}, {initial.upper()}.")
    assert once.endswith(f" {initial}")
    assert normalize_name(once) == once


def test_a_one_word_name_keeps_its_first_letter() -> None:
    assert extra_words(["alcott"], ["talcott"]) == (["alcott"], ["talcott"])  # two Chicago schools
    assert extra_words(["imtel"], ["intel"]) == ([], [])  # gitdm: one typo inside the word
    # in a longer name the other words carry the identity: a mistyped first letter is a typo
    assert extra_words(["kessler", "ervices"], ["kessler", "services"]) == ([], [])
    assert same_word("ervices", "services")


def test_real_rows_two_schools_stay_apart_and_repeats_merge() -> None:
    predicted, truth = _predicted(CHICAGO_ROWS)
    wrong = predicted - truth
    assert not wrong, sorted(wrong)
    # the exact repeats of each school are merged
    assert {("1043", "2575"), ("2801", "963"), ("1319", "2298")} <= predicted


def test_a_chain_does_not_join_two_initials() -> None:
    # "Hughes, C." ~ "Hughes" ~ "Hughes, L.": each link alone looks fine, the cluster would be wrong
    rows = [*CHICAGO_ROWS[:3], ("X1", " Hughes", "424760623"), ("X2", " Hughes, L.", "24060628")]
    predicted, _truth = _predicted(rows)
    initial = {"1043": "c", "2575": "c", "2576": "l", "X2": "l"}
    joined = [(a, b) for a, b in predicted if a in initial and b in initial and initial[a] != initial[b]]
    assert not joined, joined
