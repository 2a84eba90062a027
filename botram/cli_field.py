"""`botram field …`: carry one event between the regency server and a field laptop (docs/field-sync.md).

The group is split by transport: the file commands (export, import) and the network commands (pull, push)
each add themselves to `field` from their own module, listed in FIELD_MODULES.
"""
from __future__ import annotations

from importlib import import_module

import click


@click.group("field")
def field() -> None:
    """Check an event out to a field laptop and back in (file or network)."""


FIELD_MODULES: tuple[str, ...] = ("cli_field_file", "cli_field_net")

for _module in FIELD_MODULES:
    import_module(f"{__package__}.{_module}")
