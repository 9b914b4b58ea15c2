"""Accounts of the dashboard: names, roles, argon2 password hashes, sign-in throttling.

One SQLite file next to the data store (never in git), shared with the audit
log (``loaders.audit``). Several Streamlit sessions and the command line
(``python -m dashboard.users``) may use it at once: WAL mode, a busy timeout,
and every write in one transaction.

Passwords are only ever kept as argon2 hashes (``argon2.PasswordHasher``).
After ``MAX_FAILURES`` failed sign-ins in a row for a name, the name is locked
for ``LOCKOUT``; attempts during a lock fail without looking at the password.
Unknown names are answered like wrong passwords, cost the same argon2
verification, and are throttled the same way, so that neither the answer nor
its timing tells whether an account exists. Failed attempts are forgotten
after ``FAILURE_MEMORY`` without further failures.
"""

from __future__ import annotations

from loaders.paths import beside_store

import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geodata.domain import LOCAL_TZ
from loaders.audit import AuditLog, connect, initialise, transaction, utc_now

ROLES = ("admin", "council", "workshop", "public")
FILENAME = "atlas-accounts.sqlite"
MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 64
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(hours=24)

# Shown in the German UI.
MSG_OK = "Angemeldet."
MSG_FAILED = "Name oder Passwort falsch."
MSG_LOCKED = "Zu viele Fehlversuche. Anmeldung ab {time} Uhr wieder möglich."

_NAME = re.compile(r"[A-Za-z0-9._@-]{1,%d}" % MAX_NAME_LENGTH)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failed TEXT NOT NULL,
    locked_until TEXT
);
"""


class AccountError(ValueError):
    """An account operation was refused (the message says why; it never contains a password)."""


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    role: str | None
    message: str
    locked_until: datetime | None = None
    name: str | None = None  # the stored spelling of the name (names are case-insensitive)


def default_path(store_location: str | None = None) -> Path:
    """``ATLAS_ACCOUNTS`` if set, else ``FILENAME`` beside the data store (see ``loaders.paths``)."""
    return beside_store(FILENAME, "ATLAS_ACCOUNTS", store_location)


def valid_name(name: object) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def check_name(name: object) -> None:
    if not valid_name(name):
        raise AccountError(
            f"invalid name {name!r}: 1 to {MAX_NAME_LENGTH} characters, only letters A-Z, digits and . _ @ -"
        )


def check_role(role: object) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return utc_now()
    return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)


def locked_message(locked_until: datetime) -> str:
    """The lock notice with the local time (rounded up to the minute) when signing in works again."""
    local = locked_until.astimezone(ZoneInfo(LOCAL_TZ))
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return MSG_LOCKED.format(time=local.strftime("%H:%M"))


class AccountStore:
    """Accounts in one SQLite file; safe to share between threads and processes.

    ``hasher``: the argon2 parameters for new hashes (default: argon2-cffi's
    defaults; tests pass a cheap one). ``audit``: where account changes and
    lockouts are recorded (same transaction when it is the same file).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, hasher: PasswordHasher | None = None,
                 audit: AuditLog | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.hasher = hasher or PasswordHasher()
        self.audit = audit
        self._dummy: str | None = None
        initialise(self.path, _SCHEMA)

    # -- reading -----------------------------------------------------------
    def list(self, now: datetime | None = None) -> list[dict]:
        """All accounts by name: name, role, created, locked_until (None unless locked now). No hashes."""
        now = _utc(now)
        rows = self._read(
            "SELECT a.name, a.role, a.created, f.locked_until FROM accounts a "
            "LEFT JOIN login_failures f ON f.key = lower(a.name) ORDER BY a.name COLLATE NOCASE"
        )
        return [self._public(row, now) for row in rows]

    def get(self, name: str, now: datetime | None = None) -> dict | None:
        """The account (as in ``list``) or None if there is none of that name."""
        if not valid_name(name):
            return None
        rows = self._read(
            "SELECT a.name, a.role, a.created, f.locked_until FROM accounts a "
            "LEFT JOIN login_failures f ON f.key = lower(a.name) WHERE a.name = ?",
            (name,),
        )
        return self._public(rows[0], _utc(now)) if rows else None

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        conn = connect(self.path)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    @staticmethod
    def _public(row: sqlite3.Row, now: datetime) -> dict:
        locked = _parse(row["locked_until"])
        return {
            "name": row["name"],
            "role": row["role"],
            "created": _parse(row["created"]),
            "locked_until": locked if locked and locked > now else None,
        }

    # -- changing ----------------------------------------------------------
    def add(self, name: str, role: str, password: str, *, actor: str = "cli") -> None:
        check_name(name)
        check_role(role)
        hashed = self._hash(password)
        with transaction(self.path) as conn:
            if self._exists(conn, name):
                raise AccountError(f"an account named '{name}' already exists")
            conn.execute(
                "INSERT INTO accounts (name, role, hash, created) VALUES (?, ?, ?, ?)",
                (name, role, hashed, utc_now().isoformat(timespec="seconds")),
            )
            self._record(conn, actor, "account_add", name, f"role={role}")

    def remove(self, name: str, *, actor: str = "cli") -> None:
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            conn.execute("DELETE FROM accounts WHERE name = ?", (stored,))
            conn.execute("DELETE FROM login_failures WHERE key = ?", (stored.lower(),))
            self._record(conn, actor, "account_remove", stored)

    def set_role(self, name: str, role: str, *, actor: str = "cli") -> None:
        check_role(role)
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            old = conn.execute("SELECT role FROM accounts WHERE name = ?", (stored,)).fetchone()["role"]
            conn.execute("UPDATE accounts SET role = ? WHERE name = ?", (role, stored))
            self._record(conn, actor, "account_set_role", stored, f"role={old} -> {role}")

    def set_password(self, name: str, password: str, *, actor: str = "cli") -> None:
        """New password; also lifts a lock on the name."""
        if not valid_name(name):
            raise AccountError(f"unknown account '{name}'")
        hashed = self._hash(password)
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            conn.execute("UPDATE accounts SET hash = ? WHERE name = ?", (hashed, stored))
            conn.execute("DELETE FROM login_failures WHERE key = ?", (stored.lower(),))
            self._record(conn, actor, "account_set_password", stored)

    # -- signing in --------------------------------------------------------
    def authenticate(self, name: str, password: str, now: datetime | None = None, *,
                     actor: str = "system") -> AuthResult:
        """Check a sign-in. ``now`` (UTC) is injectable for tests; ``actor`` is recorded for lockouts."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        now = _utc(now)
        key = name.lower() if valid_name(name) else None  # other names cannot exist; nothing to track
        account, locks = None, None
        if key is not None:
            # Count the attempt as failed *before* verifying, so that parallel
            # attempts cannot get past the limit; a success clears it again.
            with transaction(self.path) as conn:
                row = conn.execute(
                    "SELECT failures, last_failed, locked_until FROM login_failures WHERE key = ?", (key,)
                ).fetchone()
                failures = 0
                if row is not None:
                    locked_until = _parse(row["locked_until"])
                    if locked_until is not None and now < locked_until:
                        return AuthResult(False, None, locked_message(locked_until), locked_until)
                    if locked_until is None and now - _parse(row["last_failed"]) < FAILURE_MEMORY:
                        failures = row["failures"]  # (an expired lock starts a new count)
                failures += 1
                locks = now + LOCKOUT if failures >= MAX_FAILURES else None
                conn.execute(
                    "INSERT INTO login_failures (key, failures, last_failed, locked_until) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
                    "last_failed = excluded.last_failed, locked_until = excluded.locked_until",
                    (key, failures, _iso(now), _iso(locks) if locks else None),
                )
                conn.execute(
                    "DELETE FROM login_failures WHERE last_failed < ? AND (locked_until IS NULL OR locked_until < ?)",
                    (_iso(now - FAILURE_MEMORY), _iso(now)),
                )
                account = conn.execute("SELECT name, role, hash FROM accounts WHERE name = ?", (name,)).fetchone()

        # The slow part, outside any transaction; unknown names cost the same.
        dummy = self._dummy_hash()  # made on the first sign-in of any name: no one-off delay for unknown ones
        hashed = account["hash"] if account is not None else dummy
        verified = self._verify(hashed, password) and account is not None

        if verified:
            fresh = self.hasher.hash(password) if self._needs_rehash(hashed) else None
            with transaction(self.path) as conn:
                current = conn.execute("SELECT name, role, hash FROM accounts WHERE name = ?",
                                       (account["name"],)).fetchone()
                # removed, or the password changed meanwhile: the checked one is no longer valid
                if current is not None and current["hash"] == hashed:
                    conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))
                    if fresh is not None:
                        conn.execute("UPDATE accounts SET hash = ? WHERE name = ?", (fresh, current["name"]))
                    return AuthResult(True, current["role"], MSG_OK, None, current["name"])
        if locks is not None:
            if self.audit is not None:
                self.audit.record(actor, "account_lockout", name,
                                  f"{MAX_FAILURES} failed sign-ins; locked until {locks.isoformat(timespec='seconds')}")
            return AuthResult(False, None, locked_message(locks), locks)
        return AuthResult(False, None, MSG_FAILED, None)

    # -- helpers -----------------------------------------------------------
    def _hash(self, password: str) -> str:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        return self.hasher.hash(password)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def _needs_rehash(self, hashed: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    @staticmethod
    def _exists(conn: sqlite3.Connection, name: str) -> bool:
        return conn.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone() is not None

    @staticmethod
    def _existing(conn: sqlite3.Connection, name: str) -> str:
        """The stored spelling of ``name``, or AccountError."""
        row = conn.execute("SELECT name FROM accounts WHERE name = ?", (name,)).fetchone() if valid_name(name) else None
        if row is None:
            raise AccountError(f"unknown account '{name}'")
        return row["name"]

    def _record(self, conn: sqlite3.Connection, actor: str, action: str, target: str, detail: str = "") -> None:
        """Record a change; in the change's own transaction when the audit log is in the same file."""
        if self.audit is None:
            return
        if self.audit.path.resolve() == self.path.resolve():
            self.audit._insert(conn, actor, action, target, detail)
        else:
            # another file: recorded before the change commits; a failed change leaves a superfluous entry
            self.audit.record(actor, action, target, detail)
