"""The normaliser on several cores (`resolve.parallel`), shared by resolution and lead matching."""

from __future__ import annotations

import pyarrow as pa

import accountree.resolve.parallel as par
from accountree.resolve import features as feat
from accountree.resolve.normalize import normalize_names_and_forms

NAMES = ["Acme GmbH", None, "Société Générale S.A.", "  ", "IBM Research – China", "L'Oréal", "Doraud SAS",
         "Kessler GmbH & Co. KG", "ACME GMBH", float("nan"), *(f"Firm {i} S.à r.l." for i in range(40))] * 3


def _spy(monkeypatch) -> list:
    pools = []

    def spy(*args, **kwargs):
        pools.append(args)
        return spy.__wrapped__(*args, **kwargs)

    spy.__wrapped__ = par.ProcessPoolExecutor
    monkeypatch.setattr(par, "ProcessPoolExecutor", spy)
    return pools


def test_forked_workers_give_the_keys_and_forms_of_one_process(monkeypatch):
    pools = _spy(monkeypatch)
    monkeypatch.setattr(par, "PARALLEL_FROM", 10)
    keys, forms = par.normalize_names_and_forms(NAMES)
    assert (keys, forms) == normalize_names_and_forms(NAMES)
    assert "kessler" in keys and "GmbH & Co. KG" in forms  # not empty results of a failed worker
    assert len(pools) == 1 or par.workers() < 2
    monkeypatch.setattr(par, "PARALLEL_FROM", 10_000)
    assert par.normalize_names_and_forms(NAMES) == (keys, forms)
    assert len(pools) <= 1  # few distinct names: this process alone


def test_resolution_features_use_the_pool(monkeypatch):
    """`build_features` normalises through the shared pool: the same features either way."""
    accounts = pa.table({"account_id": [f"A{i}" for i in range(len(NAMES))],
                         "name": [n if isinstance(n, str) else None for n in NAMES]})
    monkeypatch.setattr(par, "PARALLEL_FROM", 10_000)
    alone = feat.build_features(accounts)
    pools = _spy(monkeypatch)
    monkeypatch.setattr(par, "PARALLEL_FROM", 10)
    assert feat.build_features(accounts).equals(alone)
    assert len(pools) == 1 or par.workers() < 2


def test_word_alignment_in_forked_workers_gives_the_same_levels(monkeypatch):
    """The `accountree_same_words` UDF of a large workspace aligns its batches in forked processes:
    the same answers as in this process."""
    from accountree.resolve import model

    left = [["kessler", "svcs"], ["amberhill", "prime"], ["data", "ia"], None, ["caron", "associes", "nova"]] * 20
    right = [["kessler", "services"], ["amberwell", "prime"], ["dataia"], ["x"], ["caron", "associes"]] * 20
    forms_l = ["GmbH", "Ltd", None, None, "SAS"] * 20
    forms_r = ["GmbH", "Ltd", None, "SA", "SARL"] * 20
    args = [pa.array(left, pa.list_(pa.string())), pa.array(right, pa.list_(pa.string())),
            pa.array(forms_l, pa.string()), pa.array(forms_r, pa.string())]
    alone = model._same_words_arrow(*args)
    assert alone.to_pylist()[:5] == [True, False, True, False, False]
    monkeypatch.setattr(model, "WORDS_PARALLEL_FROM", 10)
    monkeypatch.setattr(model, "WORDS_MIN_BATCH", 1)
    with model._words_pool(1000) as udf:
        assert udf is not model._same_words_arrow or par.workers() < 2
        assert udf(*args).equals(alone)
