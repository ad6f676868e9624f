"""Registrable domains ("us.ibm.com" → "ibm.com", "shop.acme.co.uk" → "acme.co.uk") with the
Public Suffix List snapshot bundled in `tldextract` — never fetched: matching works offline and
gives the same answer on every machine with the same tldextract version."""

from __future__ import annotations

from functools import lru_cache

import tldextract

# suffix_list_urls=() and cache_dir=None: the snapshot shipped inside the package, no network, no cache dir
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


@lru_cache(maxsize=1 << 16)
def registrable(host: str | None) -> str | None:
    """The registrable domain of a host name, or None (no public suffix, an IP address, blank)."""
    if not host:
        return None
    found = _EXTRACT(host.strip().lower().rstrip("."))
    if not found.domain or not found.suffix:
        return None
    return f"{found.domain}.{found.suffix}"
