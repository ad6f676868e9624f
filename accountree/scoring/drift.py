"""Data drift since training: population stability index (PSI) of the model's main fields.

At training, the distribution of the most important fields (permutation importance, at most
`MAIN_FIELDS`) over the training accounts is stored with the model: numbers in deciles (edges from
the training values) plus a missing bin, categories as their frequent levels plus `other` and
`missing`. `score status` counts today's accounts in the same bins with one GROUP BY query per
field (set-based, both engines) and computes PSI = Σ (now − then) × ln(now / then) (shares floored
at 0.0001). The usual reading: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major shift — above
`model.drift_psi` (0.25) status warns that the model should be retrained.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

MAIN_FIELDS = 5
FLOOR = 1e-4
MISSING_BIN = "(missing)"
OTHER_BIN = "(other)"


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.items()}


def profile(table: pa.Table, model: dict[str, Any]) -> list[dict[str, Any]]:
    """Reference bins and shares of the main fields, from the training rows."""
    kinds = model.get("fields", {})
    sources = [r["source"] for r in model.get("importance", []) if r.get("source") in kinds][:MAIN_FIELDS]
    out = []
    for source in sources:
        col = table.column(source)
        if kinds[source] == "numeric":
            values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
            known = values[~np.isnan(values)]
            if not len(known):
                continue
            edges = sorted({float(e) for e in np.quantile(known, np.linspace(0.1, 0.9, 9))})
            bins = np.searchsorted(edges, known, side="left")
            counts = {str(b): int((bins == b).sum()) for b in range(len(edges) + 1)}
            counts[MISSING_BIN] = int(np.isnan(values).sum())
            out.append({"source": source, "kind": "numeric", "edges": edges, "shares": _shares(counts)})
        else:
            text = pc.cast(col, pa.string()).to_pylist()
            from collections import Counter

            counter = Counter(v for v in text if v is not None)
            levels = [v for v, n in counter.most_common(20) if n >= 5]
            counts = {v: counter[v] for v in levels}
            counts[OTHER_BIN] = sum(n for v, n in counter.items() if v not in counts)
            counts[MISSING_BIN] = sum(v is None for v in text)
            out.append({"source": source, "kind": kinds[source], "levels": levels, "shares": _shares(counts)})
    return out


def _bin_sql(ref: dict[str, Any], value: exp.Expression) -> exp.Expression:
    case = exp.Case().when(exp.Is(this=value, expression=exp.Null()), exp.Literal.string(MISSING_BIN))
    if ref["kind"] == "numeric":
        for b, edge in enumerate(ref["edges"]):
            case = case.when(exp.LTE(this=value.copy(), expression=exp.Literal.number(repr(edge))), exp.Literal.string(str(b)))
        return case.else_(exp.Literal.string(str(len(ref["edges"]))))
    if ref["levels"]:
        case = case.when(exp.In(this=value.copy(), expressions=[exp.Literal.string(v) for v in ref["levels"]]), value.copy())
    return case.else_(exp.Literal.string(OTHER_BIN))


def psi(then: dict[str, float], now: dict[str, float]) -> float:
    keys = set(then) | set(now)
    total = 0.0
    for k in keys:
        a, b = max(then.get(k, 0.0), FLOOR), max(now.get(k, 0.0), FLOOR)
        total += (b - a) * np.log(b / a)
    return float(total)


def drift(ws, model: dict[str, Any]) -> list[dict[str, Any]]:
    """PSI of each profiled field, today's accounts vs the training accounts (needs `score_features`)."""
    from accountree.scoring.fields import field_sql, from_features

    out = []
    if not ws.engine.table_exists("score_features"):
        return out
    for ref in model.get("drift_profile", []):
        bucket = _bin_sql(ref, field_sql(ref["source"], model["fields"][ref["source"]]))
        query = from_features().select(bucket.as_("bin"), exp.Count(this=exp.Star()).as_("n")).group_by(bucket.copy())
        counts = {str(b): int(n) for b, n in ws.engine.fetchall(query)}
        value = psi(ref["shares"], _shares(counts))
        from accountree.scoring.fields import label_of

        out.append({"field": label_of(ref["source"]), "psi": round(value, 4)})
    return out
