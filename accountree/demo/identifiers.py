"""Registry identifiers that pass the real check-digit rules: SIREN/SIRET (Luhn), LEI (ISO 17442).

Demo identifiers must be *valid*, not just well-shaped: the importer and the entity resolver
validate check digits, and a demo that fails validation would demonstrate nothing. They must also
be unique across a million accounts (a shared SIREN means "same legal entity" to the resolver), so
each is derived from a run-wide counter through an affine permutation instead of being drawn at
random (random draws collide: 300 k nine-digit draws give hundreds of birthday collisions).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# LEI prefixes of real Local Operating Units (characters 1-4) followed by the legacy "00".
LEI_PREFIX: dict[str, str] = {
    "FR": "969500", "DE": "529900", "GB": "213800", "ES": "959800", "IT": "815600",
    "US": "549300", "BE": "549300", "CH": "506700",
}
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_B36_DIGITS = {c: str(i) for i, c in enumerate(_B36)}  # ISO 7064 letter values: A=10 … Z=35
_SIREN_SPACE = 9 * 10**7  # first digit 1-9
_SIREN_A = 61_803_401  # coprime with 2, 3 and 5, so with the space
_DUNS_SPACE = 10**9
_DUNS_A = 414_213_563
_LEI_SPACE = 36**12
_LEI_A = 3_141_592_653_589_793_239  # odd, not a multiple of 3: coprime with 36**12


def luhn_check_digit(payload: np.ndarray, ndigits: int) -> np.ndarray:
    """Check digit to append to ``payload`` (``ndigits`` digits) so the whole number is Luhn-valid."""
    total = np.zeros(payload.shape, dtype=np.int64)
    rest = payload.astype(np.int64)
    for i in range(ndigits):  # i = 0 is the rightmost payload digit, the first one doubled
        d = rest % 10
        rest //= 10
        if i % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    return (10 - total % 10) % 10


def sirens(start: int, n: int, salt: int) -> np.ndarray:
    """``n`` distinct, Luhn-valid SIRENs (as int64) for run-wide counters ``start .. start+n-1``."""
    k = np.arange(start, start + n, dtype=np.int64)
    payload = 10**7 + (_SIREN_A * k + salt) % _SIREN_SPACE  # 8 digits, the first one 1-9
    return payload * 10 + luhn_check_digit(payload, 8)


def sirets(siren: np.ndarray, nic4: np.ndarray) -> np.ndarray:
    """SIRET = SIREN + establishment number (NIC: 4 digits + Luhn digit over all 14 digits)."""
    payload = siren.astype(np.int64) * 10_000 + nic4.astype(np.int64)
    return payload * 10 + luhn_check_digit(payload, 13)


def duns(start: int, n: int, salt: int) -> list[str]:
    """``n`` distinct nine-digit D-U-N-S numbers (leading zeros kept)."""
    k = np.arange(start, start + n, dtype=np.int64)
    values = (_DUNS_A * k + salt) % _DUNS_SPACE
    return [f"{v:09d}" for v in values.tolist()]


def _lei_check(base18: str) -> str:
    numeric = "".join(_B36_DIGITS[c] for c in base18)
    return f"{98 - int(numeric + '00') % 97:02d}"


def leis(start: int, countries: list[str], salt: int) -> list[str]:
    """Distinct LEIs with valid ISO 17442 (mod 97-10) check digits, one per country given."""
    out = []
    for i, country in enumerate(countries):
        v = (_LEI_A * (start + i) + salt) % _LEI_SPACE
        body = []
        for _ in range(12):
            v, r = divmod(v, 36)
            body.append(_B36[r])
        base = LEI_PREFIX[country] + "".join(body)
        out.append(base + _lei_check(base))
    return out


def luhn_valid(number: str) -> bool:
    """True when a digit string (spaces ignored) passes the Luhn check (SIREN, SIRET)."""
    digits = number.replace(" ", "")
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def lei_valid(lei: str) -> bool:
    """True when a 20-character LEI passes the ISO 17442 / ISO 7064 mod 97-10 check."""
    lei = lei.upper()
    if len(lei) != 20 or not lei[-2:].isdigit() or any(c not in _B36_DIGITS for c in lei):
        return False
    numeric = "".join(_B36_DIGITS[c] for c in lei)
    return int(numeric) % 97 == 1


def record_ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    """Sequential CRM-style record ids (``ACC0000042``), vectorised for tens of millions of rows."""
    numbers = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")
