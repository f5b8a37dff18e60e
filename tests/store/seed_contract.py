"""Reads the shared-schema contract (seed 001) so tests compare databases to the seed itself."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"


@dataclass
class ColumnSpec:
    name: str
    type: str
    nullable: bool
    default: str


@dataclass
class TableSpec:
    name: str
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    indexes: dict[str, list[str]] = field(default_factory=dict)
    foreign_keys: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def seed_001() -> Path | None:
    matches = sorted(SEEDS_DIR.glob("001_*.txt"))
    return matches[0] if matches else None


_SECTION = re.compile(r"^## (\w+)\s*$", re.MULTILINE)
_ROW = re.compile(r"^\|\s*(\w+)\s*\|\s*([A-Z]+(?:\(\d+\))?)\s*\|\s*(YES|NO)\s*\|\s*([^|]*?)\s*\|")
_INDEX = re.compile(r"^\d+\.\s+`(ix_\w+) \(([^)]*)\)`")
_FK = re.compile(r"FOREIGN KEY \((\w+)\) REFERENCES (\w+)\((\w+)\) ON DELETE ([A-Z ]+?)`")


def parse_tables(text: str) -> dict[str, TableSpec]:
    """Every ``## table`` section with a ``### Schema`` table."""
    tables: dict[str, TableSpec] = {}
    sections = list(_SECTION.finditer(text))
    for match, following in zip(sections, [*sections[1:], None], strict=True):
        body = text[match.end() : following.start() if following else len(text)]
        if "### Schema" not in body:
            continue
        table = TableSpec(match.group(1))
        for line in body.splitlines():
            if row := _ROW.match(line):
                name, type_, nullable, default = row.groups()
                table.columns[name] = ColumnSpec(name, type_, nullable == "YES", default)
            elif index := _INDEX.match(line):
                table.indexes[index.group(1)] = [c.strip() for c in index.group(2).split(",")]
            if fk := _FK.search(line):
                column, target, target_column, rule = fk.groups()
                table.foreign_keys[column] = (target, target_column, rule.strip())
        tables[table.name] = table
    return tables
