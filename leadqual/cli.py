"""Read leads from the command line: `bin/leads show EMAIL` prints one lead as JSON,
`bin/leads list` lists them (highest score first)."""

from __future__ import annotations

import argparse
import json
import sys

from leadqual.leads import LeadStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leads", description=__doc__)
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: $LEADQUAL_DATABASE_URL or var/leads.db)")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print one lead as JSON, found by email (case-insensitive)")
    show.add_argument("email")
    listing = sub.add_parser("list", help="list leads, highest total score first")
    listing.add_argument("--stage", choices=["lead", "mql", "sql"])
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    store = LeadStore(args.database_url)
    store.create_schema()
    if args.command == "show":
        lead = store.get_by_email(args.email)
        if lead is None:
            print(f"No lead with email {args.email}", file=sys.stderr)
            return 1
        print(json.dumps(lead, indent=2, ensure_ascii=False))
        return 0
    leads = store.list_leads(limit=args.limit, stage=args.stage)
    if args.json:
        print(json.dumps(leads, indent=2, ensure_ascii=False))
        return 0
    print(f"{'TOTAL':>5}  {'STAGE':<5}  {'LANG':<4}  {'EMAIL':<32}  {'COMPANY':<24}  UPDATED")
    for lead in leads:
        print(
            f"{lead['scores']['total']:>5}  {lead['stage']:<5}  {lead['language']:<4}  "
            f"{(lead['email'] or '(anonymous)'):<32.32}  {(lead['company'] or ''):<24.24}  {lead['updated_at'][:19]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
