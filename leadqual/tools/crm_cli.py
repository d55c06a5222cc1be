"""`bin/leads crm ...`: connect a native CRM and look after its deliveries.

    bin/leads crm connect hubspot|salesforce [--dry-run]   check (and for HubSpot create) what the
                                                           sync needs; show one lead as the CRM gets it
    bin/leads crm check                                    the same for LEADQUAL_CRM_DESTINATION, changing nothing
    bin/leads crm failures                                 CRM deliveries that failed for good, with the reason
    bin/leads crm retry ID|--all                           send failed deliveries again
    bin/leads crm poll                                     read Salesforce's changes once (the action server polls)

Credentials come from the environment or a file (LEADQUAL_HUBSPOT_TOKEN_FILE,
LEADQUAL_SALESFORCE_CREDENTIALS_FILE), never from the command line, where `ps` would show them.
"""

from __future__ import annotations

import argparse
import json
import os

from sqlalchemy import select

from leadqual import settings
from leadqual.db.tables import Lead
from leadqual.delivery import connectors, crm, crm_fields, handoff, routing
from leadqual.delivery.outbox import DeliveryWorker, Destinations
from leadqual.leads import serialize
from leadqual.leads.store import LeadStore


def add_parser(sub) -> None:
    parser = sub.add_parser("crm", help="connect HubSpot or Salesforce; failed deliveries; Salesforce's changes")
    crm_sub = parser.add_subparsers(dest="crm_command", required=True)
    connect = crm_sub.add_parser("connect", help="check and set up what the sync needs (HubSpot: its properties)")
    connect.add_argument("system", choices=crm.SYSTEMS)
    connect.add_argument("--dry-run", action="store_true", help="only list what is missing; create nothing")
    crm_sub.add_parser("check", help="what is missing for LEADQUAL_CRM_DESTINATION, and one lead as the CRM gets it")
    crm_sub.add_parser("failures", help="CRM deliveries that failed for good, newest first, with the reason")
    retry = crm_sub.add_parser("retry", help="send failed CRM deliveries again")
    retry.add_argument("message_id", nargs="?", help="one delivery (its id from `failures`)")
    retry.add_argument("--all", action="store_true", help="every failed CRM delivery")
    crm_sub.add_parser("poll", help="apply the changes salespeople made in Salesforce since the last poll, once")


def _example(store: LeadStore) -> dict | None:
    """The newest sales-ready lead's packet, as the CRM would receive it."""
    with store.sessions() as session:
        lead = session.scalars(
            select(Lead).where(Lead.sales_ready.is_(True)).order_by(Lead.updated_at.desc()).limit(1)
        ).first()
        if lead is None:
            return None
        lead_json = serialize.lead_json(session, lead, history=False)
    owner = lead_json["owner"]
    assignment = routing.Assignment(owner.get("sdr"), owner.get("queue"), owner.get("rule") or "", "")
    return handoff.packet({**lead_json, "transcripts": []}, assignment)


def _show(system: str, connector, store: LeadStore) -> dict:
    packet = _example(store)
    if packet is None:
        return {}
    if system == "hubspot":
        return crm_fields.hubspot_properties(packet, store.config.crm.hubspot, None)
    return crm_fields.salesforce_fields(packet, store.config.crm.salesforce, None)


def run(store: LeadStore, args: argparse.Namespace) -> int:
    command = args.crm_command
    try:
        system = args.system if command == "connect" else crm.configured_system()
        if command in ("connect", "check", "poll") and system is None:
            print("LEADQUAL_CRM_DESTINATION is webhook: the generic webhook needs no connection (README).")
            return 0
        environ = _with_system(system) if command == "connect" and system else None
        connector = connectors.from_env(store.engine, store.config, environ=environ)
        if connector is None or system is None:
            print("LEADQUAL_CRM_DESTINATION is webhook: the generic webhook needs no connection (README).")
            return 0
    except crm.CredentialsError as exc:
        print(f"error: {exc}")
        return 2
    if command in ("connect", "check"):
        create = command == "connect" and not args.dry_run and system == "hubspot"
        report = connector.check(create=create)
        for item in report.created:
            print(f"created: {item}")
        for problem in report.problems:
            print(f"missing: {problem}")
        example = _show(system, connector, store)
        if example:
            print(f"one lead as {system} receives it:")
            print(json.dumps(example, indent=2, ensure_ascii=False))
        print(
            f"{system}: ready" if report.ok else f"{system}: {len(report.problems)} thing(s) to fix before leads flow"
        )
        return 0 if report.ok else 1
    worker = DeliveryWorker(store.engine, Destinations.from_env().with_connector("crm", connector))
    if command == "failures":
        dead = [d for d in worker.dead_letters(limit=500) if d["destination"] == "crm"]
        for d in dead:
            print(
                f"{d['id']}  {d['created_at'][:19]}  lead {d['lead_id']}  {d['attempts']} attempt(s)  {d['last_error']}"
            )
        print(f"{len(dead)} failed CRM deliveries")
        return 0
    if command == "retry":
        ids = [d["id"] for d in worker.dead_letters(limit=10000) if d["destination"] == "crm"] if args.all else []
        if args.message_id:
            ids.append(args.message_id)
        if not ids:
            print("nothing to retry: give a delivery id or --all")
            return 1
        again = sum(worker.retry(i) for i in ids)
        print(f"{again} deliveries will be sent again")
        return 0 if again else 1
    if command == "poll":
        if system != "salesforce":
            print("only Salesforce is polled; HubSpot's changes arrive by webhook")
            return 1
        from leadqual.leads import crm_sync  # noqa: PLC0415 - only this command needs it

        applied = crm_sync.poll_salesforce(store, connector)
        for a in applied:
            print(f"{a.outcome:10} lead {a.lead_id}  {a.detail}")
        print(f"{len(applied)} change(s) read")
        return 0
    raise AssertionError(command)


def _with_system(system: str) -> dict:
    """The environment, with the CRM being connected as the destination."""
    return {**os.environ, settings.CRM_DESTINATION.name: system}
