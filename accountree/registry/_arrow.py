"""Column helpers shared by the parsers, vectorised with pyarrow.compute.

Registry files run to tens of millions of rows (the SIRENE establishment stock has ~40M): a Python
loop per row would make an import take an hour, so every cleaning and check here works on whole
Arrow columns, including the identifier check digits (ISO 7064 for LEIs, Luhn for SIREN/SIRET).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

_ALNUM = pa.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _char_value(arr: pa.Array, i: int) -> pa.Array:
    """Value of the i-th character as a base-36 digit ("7" -> 7, "B" -> 11); null otherwise."""
    return pc.index_in(pc.utf8_slice_codeunits(arr, i, i + 1), value_set=_ALNUM).cast(pa.int64())


def text(batch: pa.RecordBatch, column: str | None) -> pa.Array:
    """The column as trimmed strings with blanks as null; all null when the file lacks it."""
    if column is None or column not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    arr = batch.column(column)
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def join_non_null(arrays: Sequence[pa.Array], separator: str) -> pa.Array:
    """Per row, the non-null values joined by `separator`; null when all are null.

    (pyarrow's own null_handling="skip" drops rows where every value is null, so it is not used.)
    """
    filled = [pc.fill_null(a, "") for a in arrays]
    joined = pc.binary_join_element_wise(*filled, separator) if len(filled) > 1 else filled[0]
    sep = re.escape(separator)
    joined = pc.replace_substring_regex(joined, pattern=f"(?:{sep}){{2,}}", replacement=separator)
    joined = pc.replace_substring_regex(joined, pattern=f"^(?:{sep})+|(?:{sep})+$", replacement="")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)


def coalesce(*arrays: pa.Array) -> pa.Array:
    return pc.coalesce(*arrays) if len(arrays) > 1 else arrays[0]


def to_date(arr: pa.Array) -> pa.Array:
    """ISO dates and date-times ("2021-01-01T00:00:00+01:00") to date32; anything else is null."""
    day = pc.utf8_slice_codeunits(arr, 0, 10)
    parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    exact = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), day)  # strptime rolls 02-30 over to 03-01
    return pc.if_else(exact, parsed, pa.scalar(None, parsed.type)).cast(pa.date32())


def lookup(arr: pa.Array, mapping: Mapping[str, str | None]) -> pa.Array:
    """Each value replaced by `mapping[value]`; null where the value is not a key."""
    keys = pa.array(list(mapping), pa.string())
    values = pa.array(list(mapping.values()), pa.string())
    return values.take(pc.index_in(arr, value_set=keys))


def map_unique(arr: pa.Array, func: Callable[[str], Hashable | None], out_type: pa.DataType) -> pa.Array:
    """`func` applied once per distinct value (country names, employee counts) and broadcast."""
    uniques = pc.unique(arr).drop_null()
    mapped = pa.array([func(v) for v in uniques.to_pylist()], out_type)
    return mapped.take(pc.index_in(arr, value_set=uniques))


def digits_only(arr: pa.Array) -> pa.Array:
    """"123-456-789" -> "123456789": identifiers are often typed with separators."""
    return pc.replace_substring_regex(arr, pattern=r"[\s.\-/]", replacement="")


def _mod(arr: pa.Array, divisor: int) -> pa.Array:
    return pc.subtract(arr, pc.multiply(pc.divide(arr, divisor), divisor))


def is_lei(arr: pa.Array, *, check_digits: bool = True) -> pa.Array:
    """ISO 17442: 18 upper-case alphanumerics then 2 digits, ISO 7064 MOD 97-10 remainder 1.

    `check_digits=False` checks the shape only: GLEIF itself has published a few LEIs whose check
    digits fail (391200014QLC3E6FR705), and in GLEIF's own files a published LEI is the truth.
    """
    shape = pc.fill_null(pc.match_substring_regex(arr, r"^[A-Z0-9]{18}[0-9]{2}$"), False)
    if not check_digits:
        return shape
    rem = pa.array([0] * len(arr), pa.int64())
    for i in range(20):
        value = _char_value(arr, i)
        shifted = pc.if_else(pc.greater_equal(value, 10), pc.multiply(rem, 100), pc.multiply(rem, 10))
        rem = _mod(pc.add(shifted, value), 97)
    return pc.fill_null(pc.and_kleene(shape, pc.equal(rem, 1)), False)


def is_luhn(arr: pa.Array, length: int) -> pa.Array:
    """`length` digits passing the Luhn check (SIREN: 9, SIRET: 14)."""
    shape = pc.fill_null(pc.match_substring_regex(arr, rf"^[0-9]{{{length}}}$"), False)
    total = pa.array([0] * len(arr), pa.int64())
    for i in range(length):
        digit = _char_value(arr, i)
        if (length - 1 - i) % 2 == 1:
            digit = pc.multiply(digit, 2)
            digit = pc.if_else(pc.greater(digit, 9), pc.subtract(digit, 9), digit)
        total = pc.add(total, digit)
    return pc.fill_null(pc.and_kleene(shape, pc.equal(_mod(total, 10), 0)), False)


def digit_sum_multiple_of(arr: pa.Array, length: int, divisor: int) -> pa.Array:
    """Sum of the digits is a multiple of `divisor` (La Poste's SIRETs, which break Luhn)."""
    total = pa.array([0] * len(arr), pa.int64())
    for i in range(length):
        total = pc.add(total, _char_value(arr, i))
    return pc.fill_null(pc.equal(_mod(total, divisor), 0), False)


def invalid_rows(valid: pa.Array) -> list[int]:
    """Positions where `valid` is false or null."""
    return pc.indices_nonzero(pc.invert(pc.fill_null(valid, False))).to_pylist()


def first_matching(values: Sequence[pa.Array], conditions: Sequence[pa.Array]) -> pa.Array:
    """Per row, the first `values[i]` whose `conditions[i]` holds (GLEIF's numbered periods)."""
    out = pa.nulls(len(values[0]), values[0].type)
    for value, cond in zip(reversed(values), reversed(conditions), strict=True):
        out = pc.if_else(pc.fill_null(cond, False), value, out)
    return out
