"""`sflow templates list | seed | add`: the node-template library in the database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sflow import config
from sflow.errors import SflowError
from sflow.store.database import ensure_database
from sflow.store.engine import transaction
from sflow.store.repositories.templates import TemplateRepository, template_record
from sflow.store.seeding import seed_system_templates
from sflow.store.template_records import (
    NODE_TYPES,
    load_library_file,
    read_json_file,
    validate_template_record,
)


def register(subparsers: Any) -> None:
    templates = subparsers.add_parser("templates", help="list, seed and add node templates")
    commands = templates.add_subparsers(
        dest="templates_command", metavar="ACTION", parser_class=type(templates)
    )
    commands.required = True

    listing = commands.add_parser("list", help="system templates and your own")
    listing.add_argument("--type", dest="node_type", type=str.upper, choices=NODE_TYPES)
    listing.add_argument("--category", help="e.g. TREND, MOMENTUM")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_list)

    seed = commands.add_parser("seed", help="load the system templates into the database")
    seed.add_argument("--file", type=Path, help="library file (default: the packaged one)")
    seed.add_argument("--force", action="store_true", help="rewrite every system template")
    seed.set_defaults(handler=cmd_seed)

    add = commands.add_parser("add", help="add (or replace) one of your templates")
    add.add_argument("file", type=Path, metavar="FILE.json", help="one template record")
    add.set_defaults(handler=cmd_add)

    for sub in (listing, seed, add):
        sub.add_argument("--database", metavar="URL", help="SQLAlchemy URL (SFLOW_DATABASE_URL)")
        sub.add_argument("--user", help="user id (SFLOW_USER, else the login name)")


def cmd_list(args: argparse.Namespace) -> int:
    engine = ensure_database(args.database)
    with transaction(engine) as session:
        rows = TemplateRepository(session, config.user_id(args.user)).find(
            node_type=args.node_type, category=args.category
        )
        records = [template_record(row) for row in rows]
    if args.json:
        print(json.dumps(records, indent=2, sort_keys=True, default=str))
        return 0
    if not records:
        print("no templates match")
        return 0
    width = max(len(r["name"]) for r in records)
    for r in records:
        owner = "system" if r["is_system_template"] else "yours"
        category = r["category"] or "-"
        print(
            f"{r['name']:{width}}  {r['node_type']:11}  {category:10}  {owner:6}  {r['display_name']}"
        )
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    library = load_library_file(args.file)
    engine = ensure_database(args.database, seed=False)
    with transaction(engine) as session:
        report = seed_system_templates(session, library, force=args.force)
    if report.skipped:
        print(f"system templates already at library {report.library_version}")
        return 0
    print(
        f"library {report.library_version}: {len(report.inserted)} added, "
        f"{len(report.updated)} updated, {len(report.retired)} retired, "
        f"{report.unchanged} unchanged"
    )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    record = read_json_file(args.file)
    if isinstance(record, dict) and "templates" in record:
        raise SflowError(f"{args.file} is a library; `sflow templates add` takes one template")
    validate_template_record(record)
    engine = ensure_database(args.database)
    with transaction(engine) as session:
        template, created = TemplateRepository(session, config.user_id(args.user)).add(record)
        name = template.name
    print(f"{'added' if created else 'replaced'} template {name}")
    return 0
