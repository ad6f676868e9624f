"""Loading the capability modules that plug into `build`, `export` and the CLI.

A capability plugs in by shipping a module with an agreed name (`stage`, `exports`, `commands`);
a capability that does not ship one is simply absent, while a real import error inside it is
raised, not hidden.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType


def capability_modules(names: tuple[str, ...]) -> Iterator[ModuleType]:
    for name in names:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) is None:
            continue
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
