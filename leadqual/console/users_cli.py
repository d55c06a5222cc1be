"""`bin/leads user ...`: console users from the command line, above all the first admin.

bin/leads user add admin@example.com --role admin            # asks for the password twice
echo "$PASSWORD" | bin/leads user add ana@example.com --role sdr --sdr lucia --password-stdin
bin/leads user token ana@example.com                          # a new API token, printed once
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from . import auth, decisions  # noqa: F401 - decisions: its notes table is part of the schema


def add_parser(sub) -> None:
    user = sub.add_parser("user", help="SDR console users: add one (the first admin), new API token")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="create a console user")
    add.add_argument("email")
    add.add_argument("--role", choices=auth.ROLES, required=True)
    add.add_argument("--name", default="")
    add.add_argument("--sdr", help="the user's SDR id in handoff.sdrs (their leads)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin, not a prompt")
    token = actions.add_parser("token", help="give a user a new API token (printed once; the old one stops)")
    token.add_argument("email")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise auth.AuthError("mismatch", "the two passwords differ")
    return first


def run(store, args: argparse.Namespace) -> int:
    store.create_schema()  # the console's tables (imported above) too
    try:
        with store.sessions.begin() as session:
            if args.user_command == "add":
                if args.sdr and store.config.handoff.sdr(args.sdr) is None:
                    raise auth.AuthError("unknown_sdr", f"no SDR {args.sdr!r} in handoff.sdrs")
                user = auth.create_user(session, args.email, _password(args), args.role, args.name, args.sdr)
                print(f"created {user.role} {user.email}")
            else:
                user = session.scalars(select(auth.User).where(auth.User.email == args.email.strip().lower())).first()
                if user is None:
                    raise auth.AuthError("unknown_user", f"no console user {args.email}")
                print(auth.new_api_token(session, user))
    except auth.AuthError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0
