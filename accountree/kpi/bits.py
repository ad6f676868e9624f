"""Sets of products and of seller BUs as bit masks: the cheap way to list, merge and test them.

A KPI build needs, per account, the products it bought (as a `; `-separated list), the same for
every ancestor's subtree, the products it bought or has in pipeline (cross-sell gaps), and the
seller BUs selling to it. Done with strings, each is an ordered aggregate over millions of
(account, product) rows. Done with bits, each is one `bit_or` per account or ancestor:

- a dictionary table per kind (`kpi_product_bits`, `kpi_bu_bits`) gives every value a fixed
  position: `word` (0, 1, …) and `bit` (0–61; 62 bits per BIGINT word, so a shift never reaches
  the sign bit on either engine);
- a set is `WORDS` BIGINT columns `<name>_0 … <name>_<W-1>`: the statements are generated for the
  workspace's word count (1 word up to 62 products, 2 up to 124, …);
- the text of a set is built once per **distinct** set (accounts share few product sets), by
  joining the distinct sets to the dictionary on a bit test, and joined back on the words.

Positions are stable: a refresh that meets a new product appends it (`append_sql`), so masks of
untouched accounts stay valid; when that needs one more word the refresh runs a full build.
Only positions and word counts (integers) are generated into SQL, never values.
"""

from __future__ import annotations

WORD_BITS = 62

# (dictionary table, value column, where the values come from)
PRODUCTS = ("kpi_product_bits", "product")
BUS = ("kpi_bu_bits", "seller_bu")

DICTIONARY = """
SELECT value AS {column}, CAST(floor(i / 62) AS INTEGER) AS word, CAST(i % 62 AS INTEGER) AS bit
FROM (SELECT value, row_number() OVER (ORDER BY value) - 1 AS i
      FROM (SELECT DISTINCT {column} AS value FROM deals WHERE {column} IS NOT NULL) v) n
"""

# values of the scope's deals not in the dictionary yet, appended after the last position
APPEND = """
INSERT INTO {table} ({column}, word, bit)
SELECT value, CAST(floor(i / 62) AS INTEGER), CAST(i % 62 AS INTEGER)
FROM (SELECT value, (SELECT count(*) FROM {table}) + row_number() OVER (ORDER BY value) - 1 AS i
      FROM (SELECT DISTINCT d.{column} AS value FROM {source} d
            WHERE d.{column} IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {table} b WHERE b.{column} = d.{column})) v) n
"""


def dictionary_sql(kind: tuple[str, str]) -> str:
    return DICTIONARY.format(column=kind[1])


def append_sql(kind: tuple[str, str], source: str) -> str:
    return APPEND.format(table=kind[0], column=kind[1], source=source)


def unknown_sql(source: str) -> str:
    """One boolean: does `source` (deals) hold a product or seller BU the dictionaries lack? (Outer
    joins, not correlated NOT EXISTS: half the time on the few rows of a refresh.)"""
    (pt, pc), (ut, uc) = PRODUCTS, BUS
    return (f"SELECT coalesce(sum(CASE WHEN (d.{pc} IS NOT NULL AND p.{pc} IS NULL) "  # noqa: S608 - fixed names
            f"OR (d.{uc} IS NOT NULL AND u.{uc} IS NULL) THEN 1 ELSE 0 END), 0) > 0 "
            f"FROM {source} d LEFT JOIN {pt} p ON p.{pc} = d.{pc} LEFT JOIN {ut} u ON u.{uc} = d.{uc}")


def words_sql(kind: tuple[str, str]) -> str:
    return f"SELECT coalesce(max(word), 0) + 1 FROM {kind[0]}"  # noqa: S608 - fixed table names


def columns(name: str, words: int, alias: str = "") -> str:
    """`a.name_0, a.name_1, …`"""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{name}_{w}" for w in range(words))


def bit_or(name: str, words: int, condition: str, word: str = "b.word", bit: str = "b.bit") -> str:
    """Aggregate columns `name_k`: the OR of the bits at (`word`, `bit`) over rows where `condition` holds."""
    return ",\n       ".join(
        f"coalesce(bit_or(CASE WHEN {word} = {w} AND ({condition}) THEN CAST(1 AS BIGINT) << {bit} END), 0) AS {name}_{w}"
        for w in range(words))


def merge(name: str, words: int, alias: str, condition: str = "TRUE") -> str:
    """Aggregate columns `name_k`: the OR of existing masks `alias.name_k` over rows where `condition` holds."""
    return ",\n".join(f"coalesce(bit_or(CASE WHEN {condition} THEN {alias}.{name}_{w} END), 0) AS {name}_{w}"
                      for w in range(words))


def has(name: str, words: int, alias: str, position: str = "b") -> str:
    """Condition: the mask `alias.name_*` holds the value at `position`."""
    if words == 1:
        word = f"{alias}.{name}_0"
    else:
        word = "CASE " + " ".join(f"WHEN {position}.word = {w} THEN {alias}.{name}_{w}" for w in range(words)) + " END"
    return f"((({word}) >> {position}.bit) & 1) = 1"


def same(name: str, words: int, left: str, right: str, right_name: str | None = None) -> str:
    """Join condition: two masks are equal."""
    right_name = right_name or name
    return " AND ".join(f"{left}.{name}_{w} = {right}.{right_name}_{w}" for w in range(words))


def texts(kind: tuple[str, str], name: str, words: int, source: str, text: str, count: str) -> str:
    """A query: one row per distinct set `name_*` of `source`, with its `text` (values sorted,
    `; `-separated) and `count`. The empty set has no row (LEFT JOIN it: NULL text)."""
    table, column = kind
    cols = columns(name, words)
    return (f"SELECT {columns(name, words, 's')}, string_agg(b.{column}, '; ' ORDER BY b.{column}) AS {text}, "  # noqa: S608 - fixed names, integer positions
            f"count(*) AS {count}\n"
            f"FROM (SELECT DISTINCT {cols} FROM {source}) s JOIN {table} b ON {has(name, words, 's')}\n"
            f"GROUP BY {columns(name, words, 's')}")
