"""Engagement activities of one chunk: web visits, e-mail clicks, meetings, events, intent topics.

Activity is concentrated (log-normal engagement per entity: a few accounts make most of the noise)
and recent for live accounts. Recent pricing-page visits (last 90 days) are reserved for the
entities with the planted intent signal: the intent pillar of the ICP has to be observable in the
bundle, exactly, for a model to learn it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accountree.demo.catalog import ACTIVITY_TOPICS, ACTIVITY_TYPES, SELLER_BUS, TOPIC_BU
from accountree.demo.firmographics import CUSTOMER, OPPORTUNITY, Profile
from accountree.demo.identifiers import record_ids

ACTIVITY_COLUMNS = ("account_id", "date", "type", "weight", "topic", "contact_id", "seller_bu", "activity_id")
HISTORY_DAYS = 4 * 365
RECENT_DAYS = 90
_TYPES = [t for t, _, _ in ACTIVITY_TYPES]
_PRICING = _TYPES.index("pricing_page")
_WEB = _TYPES.index("web_visit")
_INTENT = _TYPES.index("intent_topic")
_PERSONAL = np.isin(np.arange(len(_TYPES)), [_TYPES.index(t) for t in ("email_click", "form_fill", "meeting", "event")])
_TOPICS = [topic for t in _TYPES for topic in ACTIVITY_TOPICS[t]]
_TOPIC_OFF = np.cumsum([0] + [len(ACTIVITY_TOPICS[t]) for t in _TYPES])
_TOPIC_BU = np.array([TOPIC_BU.get(t, -1) for t in _TOPICS])


def build_activities(prof: Profile, entity: np.ndarray, is_dup: np.ndarray, account_id: list[str],
                     contact_start: np.ndarray, contact_count: np.ndarray, contact_id: pa.Array,
                     first_id: int, rng: np.random.Generator, ref_days: int) -> pa.Table:
    n = len(entity)
    eng = prof.engagement[entity] * np.where(is_dup, 0.3, 1.0)
    count = rng.poisson(2.8 * eng)
    intent = prof.fit[entity, 3] & ~is_dup
    burst = np.where(intent, rng.integers(1, 5, n), 0)  # recent pricing-page visits
    rec = np.concatenate([np.repeat(np.arange(n), count), np.repeat(np.arange(n), burst)])
    m, k = len(rec), int(count.sum())

    p = np.array([w for _, w, _ in ACTIVITY_TYPES])
    kind = np.concatenate([rng.choice(len(_TYPES), k, p=p / p.sum()), np.full(m - k, _PRICING)])
    live = np.isin(prof.status[entity[rec]], [CUSTOMER, OPPORTUNITY]) | intent[rec]
    recent = live & (rng.random(m) < 0.35)
    ago = np.where(recent, rng.random(m) * RECENT_DAYS, rng.random(m) ** 1.4 * HISTORY_DAYS).astype(np.int64)
    ago[k:] = rng.integers(0, RECENT_DAYS, m - k)
    # Without the intent signal, the pricing page was only seen long ago (or it was another page).
    stray = (kind == _PRICING) & ~intent[rec] & (ago < RECENT_DAYS)
    kind = np.where(stray, _WEB, kind)

    sizes = np.diff(_TOPIC_OFF)
    topic = _TOPIC_OFF[kind] + (rng.random(m) * sizes[kind]).astype(np.int64)
    weight = np.array([w for _, _, w in ACTIVITY_TYPES])[kind]
    weight = np.where(kind == _INTENT, rng.integers(1, 6, m), weight)

    n_contacts = contact_count[rec]
    with_contact = _PERSONAL[kind] & (n_contacts > 0) & (rng.random(m) < 0.7)
    pick = contact_start[rec] + (rng.random(m) * np.maximum(n_contacts, 1)).astype(np.int64)
    contact = contact_id.take(pa.array(np.where(with_contact, pick, 0), mask=~with_contact)) if len(contact_id) \
        else pa.nulls(m, pa.string())
    bu = np.where(_TOPIC_BU[topic] >= 0, _TOPIC_BU[topic], rng.integers(0, len(SELLER_BUS), m))
    stamped = (_TOPIC_BU[topic] >= 0) | (_PERSONAL[kind] & (rng.random(m) < 0.5))
    bu_ids = pa.array([b.bu_id for b in SELLER_BUS]).take(pa.array(bu))

    order = np.lexsort((np.arange(m), -ago))  # oldest first, like an engagement log
    table = pa.table({
        "account_id": pa.array(account_id).take(pa.array(rec)),
        "date": pa.array((ref_days - ago).astype(np.int32)).cast(pa.date32()),
        "type": pa.array(_TYPES).take(pa.array(kind)),
        "weight": pa.array(weight, pa.int64()),
        "topic": pa.array(_TOPICS).take(pa.array(topic)),
        "contact_id": contact,
        "seller_bu": pc.if_else(pa.array(stamped), bu_ids, pa.scalar(None, pa.string())),
    }).take(pa.array(order))
    ids = record_ids("ACT", first_id, m, 9)
    return table.append_column("activity_id", ids)
