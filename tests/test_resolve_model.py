"""The linkage model: u of the rare levels counted on the blocked pairs, so that a pair's match
probability does not depend on the size of the workspace (nor on how much the random sample sees)."""

from __future__ import annotations

import math
import random
from itertools import combinations

import pyarrow as pa

from accountree.resolve.features import build_features
from accountree.resolve.model import REPEAT_WEIGHT, ModelOptions, _nonnull_pairs, score_pairs

_SYLLABLES = ("ka", "lo", "ver", "ind", "mar", "tel", "qu", "bra", "sen", "dor", "fi", "gal", "rum", "pex", "tor", "vyn")
_COUNTRIES = ("FR", "DE", "IT", "ES", "GB", "US", "BE", "NL", "CH", "AT")


def _accounts(n: int, seed: int = 5) -> pa.Table:
    """`n` companies with unique two-word names; one in 25 has a second record (4 % duplicates, as
    the demo): the legal form dropped, upper case, no domain; every other one also without city."""
    rng = random.Random(seed)
    taken: set[str] = set()

    def name() -> str:
        while True:
            words = ("".join(rng.choice(_SYLLABLES) for _ in range(k)).capitalize() for k in (3, 2))
            text = " ".join(words)
            if text not in taken:
                taken.add(text)
                return text

    rows = []
    for i in range(n):
        company, country, city = name(), rng.choice(_COUNTRIES), f"city{rng.randrange(50)}"
        rows.append({"account_id": f"A{i}", "name": f"{company} GmbH", "country": country, "city": city,
                     "domain": f"site{i}.com", "industry": f"industry{rng.randrange(10)}"})
        if i % 25 == 0:
            rows.append({"account_id": f"A{i}dup", "name": company.upper(), "country": country,
                         "city": city if i % 50 else None, "domain": None, "industry": None})
    return pa.Table.from_pylist(rows)


def _pairs(pairs: pa.Table) -> list[tuple[str, str]]:
    return list(zip(pairs.column("unique_id_l").to_pylist(), pairs.column("unique_id_r").to_pylist(), strict=True))


def _duplicate_probabilities(n: int, u_max_pairs: float = 1e6) -> dict[str, float]:
    """Least probability of the duplicate pairs, with and without a city."""
    scored = score_pairs(build_features(_accounts(n)), ModelOptions(floor=0.01, u_max_pairs=u_max_pairs))
    p = dict(zip(_pairs(scored.pairs), scored.pairs.column("match_probability").to_pylist(), strict=True))
    dups = [i for i in range(0, n, 25)]
    return {"no city": min(p.get((f"A{i}", f"A{i}dup"), 0.0) for i in dups if i % 50 == 0),
            "city": min(p.get((f"A{i}", f"A{i}dup"), 0.0) for i in dups if i % 50)}


def _logit(p: float) -> float:
    return math.log2(p / (1 - p))


def test_a_sparse_random_sample_changes_nothing() -> None:
    """As in a large workspace, where 1 M random pairs see none of the rare levels (same name…):
    before, those levels took splink's default u and a sure duplicate fell from 0.85 to 0.06."""
    full = _duplicate_probabilities(3000)  # 4.5 M pairs: the sample sees every level
    sparse = _duplicate_probabilities(3000, u_max_pairs=2_000)
    assert full["no city"] > 0.75 and full["city"] > 0.99
    for kind in full:
        assert abs(_logit(sparse[kind]) - _logit(full[kind])) < 0.5, (kind, full, sparse)


def test_probabilities_hold_as_the_workspace_grows() -> None:
    small, large = _duplicate_probabilities(1000), _duplicate_probabilities(12_000)
    for kind in small:
        assert abs(_logit(large[kind]) - _logit(small[kind])) < 1.0, (kind, small, large)


def test_nonnull_pairs_worked_out_by_hand() -> None:
    features = pa.table({"lei": ["L1", None, None, "L4", None], "siren": [None, "S2", None, "S4", None],
                         "duns": [None, None, "D3", None, None], "name_norm": ["a", "b", "c", None, "e"]})
    # a pair is compared when both records have one same kind of id: (0,3) lei, (1,3) siren
    assert _nonnull_pairs(features, ("lei", "siren", "duns")) == 2
    assert _nonnull_pairs(features, ("name_norm",)) == 6  # 4 names: 4·3/2
    brute = sum(1 for a, b in combinations(range(5), 2)
                if any(features.column(c)[a].is_valid and features.column(c)[b].is_valid for c in ("lei", "siren", "duns")))
    assert brute == 2


def test_rare_levels_are_counted_on_the_blocked_pairs() -> None:
    """30 accounts, 3 names typed twice (exact repeats: one record each, not a chance agreement):
    no two *different* records share a name, so "same name" gets the u of one pair among the 27
    distinct records (351 pairs): weight log2(0.55 · 351) = 7.59 bits; the repeats themselves are
    one record typed twice, at least REPEAT_WEIGHT. Before, the repeats counted as chance: u was
    3 / 435 and the six rows of one name stayed apart on a name-only list."""
    names = [f"company{i:02d}" for i in range(24)] + ["twin one", "twin one", "twin two", "twin two",
                                                       "twin three", "twin three"]
    accounts = pa.table({"account_id": [f"R{i}" for i in range(30)], "name": names})
    scored = score_pairs(build_features(accounts), ModelOptions(u_max_pairs=10, floor=0.001))
    same_name = next(level for level in scored.model["name"] if level["label"] == "same name")
    assert same_name["weight"] == round(math.log2(0.55 * 351), 2)
    assert scored.compared >= 3
    pairs = dict(zip(_pairs(scored.pairs), zip(scored.pairs.column("gamma_name").to_pylist(),
                                               scored.pairs.column("match_weight").to_pylist(), strict=True), strict=True))
    assert pairs[("R24", "R25")][0] == same_name["gamma"] and pairs[("R24", "R25")][1] >= REPEAT_WEIGHT


def test_term_frequency_lowers_a_name_many_different_records_carry() -> None:
    """splink's TF adjustment on the name: "Services" held by 12 records of 12 cities is weak
    evidence, a name held by two records of one company is not lowered at all."""
    rows = [{"account_id": f"S{i}", "name": "Services SARL", "country": "FR", "city": f"ville{i}"} for i in range(12)]
    rows += [{"account_id": "U1", "name": "Zorblatt Industries", "country": "FR", "city": "Lyon"},
             {"account_id": "U2", "name": "Zorblatt Industries SA", "country": "FR", "city": "Lyon 3e"}]
    rows += [{"account_id": f"F{i}", "name": f"Filler{i:03d} Co", "country": "FR", "city": f"c{i}"} for i in range(40)]
    scored = score_pairs(build_features(pa.Table.from_pylist(rows)), ModelOptions(floor=0.0001))
    weight = dict(zip(_pairs(scored.pairs), scored.pairs.column("mw_name").to_pylist(), strict=True))
    rare, common = weight[("U1", "U2")], weight[("S0", "S1")]
    assert rare - common >= 3  # log2 of (12 - 2) / (u · records): several bits lower
    probability = dict(zip(_pairs(scored.pairs), scored.pairs.column("match_probability").to_pylist(), strict=True))
    assert probability[("U1", "U2")] > 0.75 > probability[("S0", "S1")]
