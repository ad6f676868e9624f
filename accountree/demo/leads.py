"""Inbound leads of the demo, with their truth, shaped like web-form and event leads:

- employees of existing entities writing from the entity's corporate domain, a sub-domain of it
  (`fr.acme.com`, `mail.acme.com`), the domain of an acquired brand or an old name (the account's
  `domains` column), or a free-mail address; the company typed as the legal name, without its legal
  form, the group's brand, with a typo or an abbreviation (`accountree.demo.variants`), or left empty;
- people of companies that are not accounts (their own corporate domain, or free mail);
- dirty rows: no e-mail, no company.

Some accounts get extra domains (`domains`): acquired brands and old names. Everything comes from
its own random streams (seeded from the chunk), so the rest of the bundle is unchanged by it.
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

from accountree.demo.brands import UniqueNamer
from accountree.demo.catalog import FREE_MAIL, INDUSTRIES, LEAD_SOURCES, SELLER_BUS
from accountree.demo.contacts import PERSON_LANG, person_names
from accountree.demo.firmographics import Profile
from accountree.demo.groups import Entities
from accountree.demo.marketing import LEAD_COLUMNS
from accountree.demo.names import COUNTRIES, HOME_WEIGHTS, LANGUAGE, LEGAL_FORMS, TLD
from accountree.demo.variants import name_variant, slug, strip_legal_form

EXTRA_DOMAIN_SHARE = 0.12  # heads and standalones with acquired-brand / old-name domains
_SYLLABLES = ("ka", "lo", "vi", "ra", "ne", "to", "mi", "sa", "du", "rel", "mon", "tex", "qua", "zen", "bri", "cor")
_SUBS = ("fr", "de", "us", "uk", "mail", "corp", "eu", "research", "emea", "it")
_BU_WEIGHTS = np.array([w for _, _, w in INDUSTRIES])


def extra_domains(e: Entities, chunk: int, seed: int) -> dict[int, list[str]]:
    """Acquired-brand and old-name domains of some heads and standalones (entity -> domains)."""
    rng = random.Random(seed * 7_919 + chunk * 104_729 + 3)
    out: dict[int, list[str]] = {}
    for i, kind in enumerate(e.kind):
        if kind not in ("head", "standalone") or rng.random() >= EXTRA_DOMAIN_SHARE:
            continue
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        own = [f"{word}{chunk}x{i}.{rng.choice(('com', 'net', TLD[e.country[i]]))}"]  # an acquired brand
        if rng.random() < 0.4:  # a country site under another TLD
            stem, _, _ = e.domain[i].partition(".")
            own.append(f"{stem}.{rng.choice(('io', 'eu', 'co.uk', 'ch'))}")
        out[i] = own
    return out


def domains_column(entity: np.ndarray, primary: np.ndarray, extra: dict[int, list[str]], records: int) -> pa.Array:
    """The accounts' `domains` column: on each entity's primary record, `;`-separated."""
    values: list[str | None] = [None] * records
    for i, own in extra.items():
        values[int(primary[i])] = "; ".join(own)
    return pa.array(values, pa.string())


def _typed(name: str, brand: str, rng: random.Random) -> str | None:
    u = rng.random()
    if u < 0.05:
        return None
    if u < 0.35:
        return strip_legal_form(name)
    if u < 0.50:
        return brand
    if u < 0.65:
        return name
    return name_variant(name, rng)


def contact_mailboxes(contacts: pa.Table, record_entity: np.ndarray, account_id: list[str]) -> dict[str, int]:
    """E-mail (lower case) of each known contact -> its entity."""
    record = {a: k for k, a in enumerate(account_id)}
    return {str(m).lower(): int(record_entity[record[a]])
            for m, a in zip(contacts.column("email").to_pylist(), contacts.column("account_id").to_pylist(), strict=True)
            if m and a in record}


def build_leads(e: Entities, prof: Profile, primary: np.ndarray, account_id: list[str], group_brand: list[str],
                extra: dict[int, list[str]], n: int, first_id: int, smes: UniqueNamer, chunk: int, seed: int,
                ref_days: int, mailboxes: dict[str, int] | None = None) -> tuple[pa.Table, list[tuple[str, int]]]:
    """``n`` inbound leads, and the truth: (lead_id, chunk-local entity or -1 for a new company).

    ``mailboxes`` (known contacts' e-mails -> entity): 4 % of the leads are known contacts writing
    again; another person of the same name at the same domain gets a numbered mailbox
    (`j.smith2@acme.com`), as mail servers do."""
    mailboxes = mailboxes or {}
    known_people = sorted(mailboxes.items())
    rng = np.random.default_rng([seed, chunk, 22])
    prng = random.Random(seed * 1_000_033 + chunk * 7 + 22)
    weights = prof.engagement / prof.engagement.sum()
    known = rng.random(n) < 0.75
    ent = np.where(known, rng.choice(len(e), n, p=weights), -1)
    countries = [e.country[i] if i >= 0 else prng.choices(COUNTRIES, HOME_WEIGHTS)[0] for i in ent.tolist()]
    names, local = person_names(np.array([PERSON_LANG[c] for c in countries]), rng)
    cols: dict[str, list] = {c: [] for c in LEAD_COLUMNS}
    truth = []
    for k, (i, country) in enumerate(zip(ent.tolist(), countries, strict=True)):
        lead_id = f"LEAD{first_id + k:07d}"
        u = prng.random()
        if i >= 0:
            company = _typed(e.name[i], group_brand[e.group[i]], prng)
            domain = e.domain[i]
            if u < 0.12:
                domain = f"{prng.choice(_SUBS)}.{domain}"
            elif u < 0.30 and extra.get(i):
                domain = prng.choice(extra[i])
            industry = int(prof.industry[i])
        else:
            base = smes.next(LANGUAGE[country]) if prng.random() < 0.5 else _invented(prng)
            company = f"{base} {prng.choice(LEGAL_FORMS[country])}" if prng.random() < 0.9 else None
            domain = f"{slug(base)}.{TLD[country]}"
            industry = prng.randrange(len(INDUSTRIES))
        v = prng.random()
        mail_domain = prng.choice(FREE_MAIL) if v < 0.2 else domain
        email = None if v > 0.96 else f"{local[k].as_py()}@{mail_domain}"
        if known_people and prng.random() < 0.04:  # a known contact fills in a form
            email, i = prng.choice(known_people)
            company = _typed(e.name[i], group_brand[e.group[i]], prng)
            country = e.country[i]
            industry = int(prof.industry[i])
        else:
            n_same = 1
            while email and email.lower() in mailboxes and mailboxes[email.lower()] != i:
                n_same += 1
                email = f"{local[k].as_py()}{n_same}@{mail_domain}"
        bu = prng.choices(range(len(SELLER_BUS)), _BU_WEIGHTS[industry].tolist())[0]
        cols["lead_id"].append(lead_id)
        cols["name"].append(names[k].as_py())
        cols["email"].append(email)
        cols["company"].append(company)
        cols["domain"].append(mail_domain if prng.random() < 0.3 else None)  # free mail included: a trap
        cols["country"].append(country if prng.random() < 0.9 else None)
        cols["seller_bu"].append(SELLER_BUS[bu].bu_id)
        cols["source"].append(prng.choice(LEAD_SOURCES))
        cols["created_at"].append(ref_days - int(prng.random() ** 1.5 * 365))
        cols["account_id"].append(account_id[primary[i]] if i >= 0 and prng.random() < 0.1 else None)
        truth.append((lead_id, i))
    table = pa.table({c: pa.array(cols[c], pa.string()) for c in LEAD_COLUMNS if c != "created_at"})
    created = pa.array(np.array(cols["created_at"], dtype=np.int32)).cast(pa.date32())
    table = table.add_column(LEAD_COLUMNS.index("created_at"), "created_at", created)
    return table, truth


def _invented(rng: random.Random) -> str:
    """A company name nobody in the bundle has (a new company)."""
    word = "".join(rng.choice(_SYLLABLES) for _ in range(3))
    return f"{word.capitalize()}{rng.choice(('ia', 'on', 'ex', 'um', 'ora'))}"
