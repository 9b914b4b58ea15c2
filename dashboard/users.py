"""Command line for the dashboard's accounts (does not start or import Streamlit).

    python -m dashboard.users add NAME --role ROLE
    python -m dashboard.users list
    python -m dashboard.users remove NAME
    python -m dashboard.users set-role NAME ROLE
    python -m dashboard.users passwd NAME
    python -m dashboard.users unlock NAME    # lift sign-in locks (from every address)
    python -m dashboard.users disable NAME   # no sign-in; open sessions end at once
    python -m dashboard.users enable NAME
    python -m dashboard.users first-admin   # only when there is no account yet

The accounts file is ``--accounts PATH``, else ``$ATLAS_ACCOUNTS``, else
``atlas-accounts.sqlite`` next to the data store (``$ATLAS_DB``). The password
for ``add`` and ``passwd`` comes from ``$ATLAS_PASSWORD`` if set, otherwise it
is asked for twice. Every change is recorded in the audit log as
``cli:<OS user>``.

Exit status: 0 done; 2 refused or failed (one line on stderr), nothing changed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sqlite3
import sys

from loaders.accounts import ROLES, AccountError, AccountStore, check_name, check_role, default_path
from loaders.audit import AuditLog

PROG = "python -m dashboard.users"


class Refused(Exception):
    """An error to report in one line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise Refused(f"{message} (see {PROG} --help)")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # also accepted after the command; SUPPRESS keeps a value given before it
    common.add_argument("--accounts", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    parser = _Parser(prog=PROG, description="Manage the accounts of the Präventionsatlas dashboard.")
    parser.add_argument("--accounts", metavar="PATH", default=None,
                        help="accounts file (default: $ATLAS_ACCOUNTS or atlas-accounts.sqlite next to the data store)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    add = sub.add_parser("add", parents=[common], help="add an account (password: $ATLAS_PASSWORD or asked)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="one of: " + ", ".join(ROLES))
    sub.add_parser("list", parents=[common], help="list the accounts and their roles")
    remove = sub.add_parser("remove", parents=[common], help="remove an account")
    remove.add_argument("name")
    set_role = sub.add_parser("set-role", parents=[common], help="change the role of an account")
    set_role.add_argument("name")
    set_role.add_argument("role", help="one of: " + ", ".join(ROLES))
    passwd = sub.add_parser("passwd", parents=[common], help="set a new password (also lifts a lock)")
    passwd.add_argument("name")
    unlock = sub.add_parser("unlock", parents=[common], help="lift the sign-in locks of an account (from every address)")
    unlock.add_argument("name")
    disable = sub.add_parser("disable", parents=[common], help="disable an account: no sign-in, open sessions end")
    disable.add_argument("name")
    enable = sub.add_parser("enable", parents=[common], help="enable a disabled account again")
    enable.add_argument("name")
    sub.add_parser(
        "first-admin",
        parents=[common],
        help="with no account yet: create 'admin' with a random password and print it (used by scripts/run.sh)",
    )
    return parser


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in the environment and no passwd entry (containers)
        return "unknown"


def read_password(name: str) -> str:
    """``$ATLAS_PASSWORD`` if set, else asked twice without echo."""
    if "ATLAS_PASSWORD" in os.environ:
        return os.environ["ATLAS_PASSWORD"]
    try:
        first = getpass.getpass(f"Password for {name}: ")
        second = getpass.getpass("Repeat the password: ")
    except EOFError:
        raise Refused("no password given") from None
    if first != second:
        raise Refused("the passwords do not match; nothing changed")
    return first


def _format_time(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


def _list(store: AccountStore) -> None:
    accounts = store.list()
    if not accounts:
        print("no accounts")
        return
    # LOCKED UNTIL: the latest lock from any address (others may still sign in)
    rows = [("NAME", "ROLE", "STATUS", "CREATED", "LOCKED UNTIL")]
    rows += [(a["name"], a["role"], "disabled" if a["disabled"] else "active", _format_time(a["created"]),
              _format_time(a["locked_until"])) for a in accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path = args.accounts or default_path()
    store = AccountStore(path, audit=AuditLog(path))
    actor = f"cli:{os_user()}"
    if args.command == "list":
        _list(store)
    elif args.command == "add":
        # refuse before asking for a password
        check_name(args.name)
        check_role(args.role)
        if store.get(args.name) is not None:
            raise AccountError(f"an account named '{args.name}' already exists")
        store.add(args.name, args.role, read_password(args.name), actor=actor)
        print(f"added {args.name} ({args.role})")
    elif args.command == "remove":
        store.remove(args.name, actor=actor)
        print(f"removed {args.name}")
    elif args.command == "set-role":
        store.set_role(args.name, args.role, actor=actor)
        print(f"{args.name} is now {args.role}")
    elif args.command == "unlock":
        lifted = store.unlock(args.name, actor=actor)
        print(f"{args.name}: locks and failure counts lifted ({lifted} address(es))")
    elif args.command in ("disable", "enable"):
        store.set_disabled(args.name, args.command == "disable", actor=actor)
        print(f"{args.name} is now {args.command}d")
    elif args.command == "first-admin":
        if store.list():
            return 0
        import secrets

        password = os.environ.get("ATLAS_PASSWORD") or secrets.token_urlsafe(12)
        store.add("admin", "admin", password, actor=actor)
        print("No accounts yet: created the account 'admin' (role admin).")
        print(f"  Password: {password}")
        print(f"  Change it with: {PROG} passwd admin; add accounts with: {PROG} add NAME --role ROLE")
    elif args.command == "passwd":
        if store.get(args.name) is None:
            raise AccountError(f"unknown account '{args.name}'")
        store.set_password(args.name, read_password(args.name), actor=actor)
        print(f"password of {args.name} changed")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except (Refused, AccountError) as exc:
        message = str(exc)
    except sqlite3.Error as exc:
        message = f"accounts file not usable: {exc}"
    except OSError as exc:
        message = f"accounts file not usable: {exc.strerror or exc}"
    except KeyboardInterrupt:
        message = "cancelled; nothing changed"
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
