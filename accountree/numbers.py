"""Numbers as people read them in JSON (API, `--json`): money to the cent, no float noise.

`3805256.1900000004` (a sum of doubles) is written `3805256.19`. A value is money when its key
says so (revenue, margin, amount, pipeline, potential, wallet, upside, spend, budget, price, `_rc`),
except shares and ratios (`_pct`, `share`, `ratio`, `rate`…), which are left as they are. The
API's read model rounds the same columns in SQL (`accountree.api.readmodel.Catalog.out`), so a
stored answer and a live one agree.
"""

from __future__ import annotations

import math
import re
from typing import Any

_MONEY = re.compile(r"revenue|margin|amount|pipeline|potential|wallet|upside|spend|budget|price|_rc$|^value$")
_RATIO = re.compile(r"pct|share|ratio|rate|nrr|retention|penetration|score|probability|weight|effort")


def is_money(key: str) -> bool:
    return bool(_MONEY.search(key)) and not _RATIO.search(key)


def tidy(value: Any, key: str = "") -> Any:
    """A copy of `value` (dicts, lists, floats) with money rounded to the cent and noise removed."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return value
        return round(value, 2) + 0.0 if is_money(key) else value  # + 0.0: -0.0 → 0.0
    if isinstance(value, dict):
        return {k: tidy(v, k if isinstance(k, str) else key) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tidy(v, key) for v in value]
    return value
