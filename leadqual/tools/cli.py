"""Leads from the command line: `bin/leads show EMAIL` prints one lead as JSON, `bin/leads list`
lists them (highest score first), `bin/leads rescore` re-scores them all (after a config change,
and for decay and went-cold recycling; run it daily), `bin/leads user add EMAIL --role admin` creates
a user of the SDR console (the first admin), `bin/leads flow ...` lists, publishes, restores and
exports versions of the question flow, `bin/leads crm connect|check|failures|retry|poll` connects HubSpot or
Salesforce and looks after its deliveries, `bin/leads person export|erase EMAIL` exports or erases one
person (GDPR), `bin/leads retention` deletes what led nowhere after the retention period (run it
daily)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from leadqual.console import users_cli
from leadqual.leads.store import LeadStore
from leadqual.scoring.stages import STAGES
from leadqual.tools import crm_cli


def _moment(text: str) -> datetime:
    """An ISO 8601 time for --now; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-07-01T06:00:00+00:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leads", description=__doc__)
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: $LEADQUAL_DATABASE_URL or var/leads.db)")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print one lead as JSON, found by email (case-insensitive)")
    show.add_argument("email")
    listing = sub.add_parser("list", help="list leads, highest total score first")
    listing.add_argument("--stage", choices=STAGES)
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rescore = sub.add_parser("rescore", help="re-score every lead (config change, decay) and recycle leads gone cold")
    rescore.add_argument("--batch-size", type=int, default=2000, help="leads per transaction (default 2000)")
    rescore.add_argument("--now", type=_moment, help="score as of this ISO 8601 time (default: now; no offset = UTC)")
    rescore.add_argument("--workers", type=int, help="processes that score (default: one per CPU, at most 4)")
    rescore.add_argument("--quiet", action="store_true", help="no progress bar, only the summary line")
    rescore.add_argument(
        "--full",
        action="store_true",
        help="score every lead from its answers, profile and events, not only its decay (needed only after a config "
        "file was edited without a new version; slower, same results otherwise)",
    )
    ident = sub.add_parser(
        "identity", help="unverified chats that gave another lead's email (leadqual/leads/identity.py)"
    )
    ident_sub = ident.add_subparsers(dest="identity_command", required=True)
    confirm = ident_sub.add_parser("confirm", help="the chat is that lead's person: merge its answers into that lead")
    confirm.add_argument("lead_id", help="the unverified lead (its page in the console shows the claim)")
    confirm.add_argument("--by", required=True, help="who confirms (recorded in the merge)")
    users_cli.add_parser(sub)
    crm_cli.add_parser(sub)
    migrate = sub.add_parser("migrate", help="create or migrate the product's tables to the newest revision")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    flow = sub.add_parser("flow", help="versions of the question flow (texts, questions, points)")
    flow_sub = flow.add_subparsers(dest="flow_command", required=True)
    flow_sub.add_parser("history", help="list the versions, newest first, with who, when and what changed")
    export = flow_sub.add_parser("export", help="write a version as qualification.yml and messages.yml")
    export.add_argument("folder")
    export.add_argument("--version", type=int, help="default: the newest")
    publish = flow_sub.add_parser(
        "publish", help="validate and publish qualification.yml + messages.yml (+ knowledge.yml) from a folder"
    )
    publish.add_argument("folder")
    publish.add_argument("--by", required=True, help="who publishes (recorded)")
    publish.add_argument("--note", default="")
    dryrun = flow_sub.add_parser("dryrun", help="score the sample visitors under the newest version and a draft folder")
    dryrun.add_argument("folder")
    dryrun.add_argument("--samples", help="default: config/sample_visitors.yml")
    restore = flow_sub.add_parser("restore", help="publish an earlier version again, as a new version")
    restore.add_argument("version", type=int)
    restore.add_argument("--by", required=True)
    _privacy_parsers(sub)
    args = parser.parse_args(argv)

    store = LeadStore(args.database_url)
    if args.command == "migrate":
        from leadqual.db import schema

        before = schema.current(store.engine)
        after = schema.upgrade(store.engine, args.revision)
        print(f"database at revision {after} (was {before or 'empty'}); newest is {schema.head()}")
        return 0
    store.create_schema()
    if args.command == "user":
        return users_cli.run(store, args)
    if args.command == "flow":
        return _flow(store, args)
    if args.command in ("person", "retention"):
        from leadqual.conversation.flows import FlowStore

        return _privacy(store.with_config(FlowStore(store.engine).current().config), args)
    # Scores use the newest published flow version.
    from leadqual.conversation.flows import FlowStore

    store = store.with_config(FlowStore(store.engine).current().config)
    if args.command == "rescore":
        return _rescore(store, args)
    if args.command == "crm":
        return crm_cli.run(store, args)
    if args.command == "identity":
        try:
            merged = store.confirm_identity(args.lead_id, by=args.by)
        except KeyError as exc:
            print(str(exc).strip("'"), file=sys.stderr)
            return 1
        print(f"merged into lead {merged['id']} ({merged['email']})")
        return 0
    if args.command == "show":
        lead = store.get_by_email(args.email)
        if lead is None:
            print(f"No lead with email {args.email}", file=sys.stderr)
            return 1
        print(json.dumps(lead, indent=2, ensure_ascii=False))
        return 0
    leads = store.list_leads(limit=args.limit, stage=args.stage)
    if args.json:  # (a * after the stage in the table: sales-ready, waiting for an SDR)
        print(json.dumps(leads, indent=2, ensure_ascii=False))
        return 0
    print(
        f"{'TOTAL':>5}  {'FIT':>4}  {'BEH':>4}  {'GRADE':<5}  {'STAGE':<12}  {'LANG':<4}  "
        f"{'EMAIL':<32}  {'COMPANY':<24}  UPDATED"
    )
    for lead in leads:
        scores = lead["scores"]
        stage = lead["stage"] + ("*" if lead["sales_ready"] and lead["stage"] != "sql" else "")
        print(
            f"{scores['total']:>5}  {scores['fit']:>4}  {scores['behaviour']:>4}  {lead['grade']:<5}  {stage:<12}  "
            f"{lead['language']:<4}  "
            f"{(lead['email'] or '(anonymous)'):<32.32}  {(lead['company'] or ''):<24.24}  {lead['updated_at'][:19]}"
        )
    return 0


def _flow(store: LeadStore, args: argparse.Namespace) -> int:
    from leadqual.conversation.flows import FlowInvalid, FlowStore, load_draft, load_draft_knowledge

    flows = FlowStore(store.engine, refresh_seconds=0)
    current = flows.current()
    if args.flow_command == "history":
        for row in flows.history():
            restored = f" (restored from {row['restored_from']})" if row["restored_from"] else ""
            print(
                f"v{row['version']:<4} {row['created_at']:%Y-%m-%d %H:%M}  {row['created_by']}{restored}  {row['note']}"
            )
            for path in row["changes"][:20]:
                print(f"        {path}")
        return 0
    if args.flow_command == "export":
        paths = flows.export(args.version or current.version, args.folder)
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0
    if args.flow_command == "dryrun":
        return _dry_run(current, args)
    try:
        if args.flow_command == "restore":
            flow = flows.restore(args.version, by=args.by)
        else:
            flow = flows.publish(
                *load_draft(args.folder), by=args.by, note=args.note, knowledge=load_draft_knowledge(args.folder)
            )
    except FlowInvalid as exc:
        print("Not published; fix these fields:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        return 2
    except (ValueError, KeyError) as exc:
        print(f"Not published: {exc}", file=sys.stderr)
        return 2
    print(f"published version {flow.version}; new conversations use it within seconds")
    return 0


def _dry_run(current, args: argparse.Namespace) -> int:
    from leadqual.conversation.dryrun import dry_run, load_samples
    from leadqual.conversation.flows import FlowInvalid, build, load_draft, load_draft_knowledge

    knowledge = load_draft_knowledge(args.folder)
    if knowledge is None:  # a folder without knowledge.yml keeps the current version's
        knowledge = current.knowledge.model_dump() if current.knowledge else None
    try:
        draft = build(*load_draft(args.folder), version=current.version + 1, knowledge=knowledge)
    except FlowInvalid as exc:
        for problem in exc.problems:
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        return 2
    print(f"{'SAMPLE':<44} {'v' + str(current.version):>12}  {'draft':>12}  CHANGED")
    for row in dry_run(current, draft, load_samples(args.samples)):
        a, b = row["current"], row["draft"]
        print(
            f"{row['name'][:44]:<44} {a['total']:>4} {a['grade']:<3} {a['stage']:<4}  {b['total']:>4} {b['grade']:<3} "
            f"{b['stage']:<4}  {', '.join(row['changed']) or '-'}"
        )
        for rule, (before, after) in row["points_changed"].items():
            print(f"{'':<46}{rule}: {before:+} -> {after:+}")
    return 0


def _rescore(store: LeadStore, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from leadqual.leads.rescore import rescore_all

    if args.batch_size < 1:
        print("--batch-size must be at least 1", file=sys.stderr)
        return 2
    tqdm.monitor_interval = 0  # no monitor thread: the scoring workers are forked
    with tqdm(total=store.count(), unit="lead", disable=args.quiet, file=sys.stderr) as bar:
        figures = rescore_all(
            store, now=args.now, batch_size=args.batch_size, progress=bar.update, workers=args.workers, full=args.full
        )
    print(
        f"rescored {figures['leads']} leads in {figures['seconds']:.1f} s: {figures['changed']} changed, "
        f"{figures['score_changes']} score changes, {figures['stage_moves']} stage moves, "
        f"{figures['recycled']} recycled (went cold)"
        + (f", {figures['retried']} scored again (changed meanwhile)" if figures["retried"] else "")
        + (f"; {figures['decay_only']} only decayed" if figures["decay_only"] else "")
    )
    return 0


# -- privacy (GDPR): leadqual/leads/privacy.py --------------------------------------------------------


def _privacy_parsers(sub) -> None:
    person = sub.add_parser("person", help="export or erase everything held about one person (GDPR)")
    person_sub = person.add_subparsers(dest="person_command", required=True)
    export = person_sub.add_parser("export", help="write everything held about the person as one JSON document")
    export.add_argument("email")
    export.add_argument("--out", help="write to this file (default: standard output)")
    erase = person_sub.add_parser(
        "erase",
        help="delete the person's lead and everything linked, reset their conversations in Rasa, scrub other "
        "leads' text, handoff files and logs, tell the CRM; prints a receipt of every store touched",
    )
    erase.add_argument("email")
    erase.add_argument("--by", required=True, help="who erases (recorded)")
    erase.add_argument(
        "--reason", required=True, help="why, e.g. the request's reference (recorded with emails and phones masked)"
    )
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    output = erase.add_mutually_exclusive_group()
    output.add_argument(
        "--json", action="store_true", help="print the receipt as JSON (the default when the output is not a terminal)"
    )
    output.add_argument("--text", action="store_true", help="print the receipt for people, even into a pipe")
    retention = sub.add_parser(
        "retention", help="delete old anonymous events and unqualified transcripts (config privacy:); run it daily"
    )
    retention.add_argument("--now", type=_moment, help="as of this ISO 8601 time (default: now)")


def _privacy(store: LeadStore, args: argparse.Namespace) -> int:
    from leadqual.leads import privacy

    if args.command == "retention":
        counts = privacy.apply_retention(store, now=args.now)
        print(json.dumps(counts, ensure_ascii=False))
        return 0
    if args.person_command == "export":
        document = privacy.export_person(store, args.email)
        text = json.dumps(document, indent=2, ensure_ascii=False)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            print(f"wrote {args.out}", file=sys.stderr)
        else:
            print(text)
        if not document["found"]:
            print(f"No lead with email {args.email}", file=sys.stderr)
            return 1
        return 0
    if not args.yes:
        lead = store.get_by_email(args.email)
        what = f"lead {lead['id']} ({len(lead['conversations'])} conversations)" if lead else "nothing found"
        print(f"Erase everything held about {args.email}: {what}. This cannot be undone.", file=sys.stderr)
        print("Type the email again to confirm: ", end="", file=sys.stderr, flush=True)
        typed = sys.stdin.readline()
        if typed.strip().lower() != args.email.strip().lower():
            print("Not confirmed; nothing erased.", file=sys.stderr)
            return 1
    try:
        result = privacy.erase_person(store, args.email, by=args.by, reason=args.reason)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.text or (not args.json and sys.stdout.isatty()):
        print(privacy.receipt(result))
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    if not result["found"]:
        print(f"No lead with email {args.email}: nothing to erase (recorded).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
