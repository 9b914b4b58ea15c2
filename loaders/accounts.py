"""Accounts of the dashboard: names, roles, argon2 password hashes, sign-in throttling.

One SQLite file next to the data store (never in git), shared with the audit
log (``loaders.audit``). Several Streamlit sessions and the command line
(``python -m dashboard.users``) may use it at once: WAL mode, a busy timeout,
and every write in one transaction.

Passwords are only ever kept as argon2 hashes (``argon2.PasswordHasher``).

Throttling counts failed attempts per client address: sign-ins per (name,
address), workshop join codes per address. After ``SIGN_IN.max_failures``
failures in a row from one address a name is locked *for that address* for one
minute; every further failure from there doubles the delay (up to an hour).
Failures from other addresses never lock the name elsewhere, so somebody who
only knows a name cannot keep its owner out; ``unlock`` (command line) lifts
the locks of a name at once. Attempts are counted *before* the password is
checked, inside one write transaction, so that parallel attempts cannot get
past the limit; attempts during a lock fail without looking at the password.
Unknown names are answered like wrong passwords, cost the same argon2
verification, and are throttled the same way, so that neither the answer nor
its timing tells whether an account exists.

Neither the audit log nor the throttle table receives what was typed into the
name field unless it is the name of an account, nor a typed join code, nor a
client address: instead a short keyed hash (HMAC-SHA256 with a random key kept in ``<accounts file>.key``,
the first 12 hex digits), so that repeated attempts can still be correlated.

Server-side sessions (``sessions`` table) let a signed-in browser survive a
reload: the browser holds a random token (``secrets.token_urlsafe(32)``) in an
HttpOnly cookie, the file only its keyed hash (full HMAC-SHA256 with the same
key), so that a copy of the file signs nobody in. A row names the account (or
the participant) and its role, when the session started and was last used, and
the client's pseudonym (never its address). Removing or disabling an account
and a new password end all of its sessions in the same transaction; how long an
idle session lives is the app's setting (``ATLAS_SESSION_MINUTES``), applied
when a session is looked up (:meth:`AccountStore.find_session`).
"""

from __future__ import annotations

from loaders.paths import beside_store

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geodata.domain import LOCAL_TZ
from loaders.audit import AuditLog, connect, initialise, transaction, utc_now

ROLES = ("admin", "council", "workshop", "public")
FILENAME = "atlas-accounts.sqlite"
MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 64
UNKNOWN_CLIENT = "-"  # the client key when the address is not known (local use, tests)
PSEUDONYM_LENGTH = 12

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
CREATE TABLE IF NOT EXISTS throttle (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failed TEXT NOT NULL,
    locked_until TEXT,
    PRIMARY KEY (scope, subject, client)
);
DROP TABLE IF EXISTS login_failures;
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL,
    via TEXT NOT NULL,
    account_created TEXT,
    workshop_id TEXT,
    participant TEXT,
    created TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    client TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account);
CREATE INDEX IF NOT EXISTS sessions_last_seen ON sessions (last_seen);
"""


@dataclass(frozen=True)
class Throttle:
    """How failed attempts of one kind are slowed down (per client address).

    From the ``max_failures``-th failure in a row on, every failure locks for
    ``first_delay``, doubled with each further failure, at most ``max_delay``.
    Failures are forgotten after ``memory`` without a failure or a lock.
    """

    scope: str
    max_failures: int
    first_delay: timedelta
    max_delay: timedelta
    memory: timedelta

    def delay(self, failures: int) -> timedelta | None:
        if failures < self.max_failures:
            return None
        return min(self.first_delay * 2 ** min(failures - self.max_failures, 20), self.max_delay)


# Sign-ins: per (name, client address).
SIGN_IN = Throttle("login", 5, timedelta(minutes=1), timedelta(hours=1), timedelta(hours=24))
# Workshop join codes: per client address. More room before the first delay:
# a whole workshop may share one address (the venue's network), and people mistype.
JOIN = Throttle("join", 10, timedelta(minutes=1), timedelta(minutes=15), timedelta(minutes=15))
MAX_FAILURES = SIGN_IN.max_failures

# Server-side sessions: how often ``last_seen`` is written at most, and the longest token looked up.
SESSION_TOUCH = timedelta(seconds=30)
MAX_TOKEN_LENGTH = 128

T = TypeVar("T")


@dataclass(frozen=True)
class Session:
    """A stored server-side session (its ``id`` is the keyed hash of the browser's token).

    ``account_created`` is set for sessions of an account (the account's ``created``, so that
    an account removed and created anew under the same name does not inherit them); sessions
    of workshop participants and of the public view have none."""

    id: str
    account: str
    role: str
    via: str
    account_created: str | None
    workshop_id: str | None
    participant: str | None
    created: datetime
    last_seen: datetime
    client: str

    def idle(self, now: datetime | None = None) -> timedelta:
        return _utc(now) - self.last_seen


class AccountError(ValueError):
    """An account operation was refused (the message says why; it never contains a password)."""


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    role: str | None
    message: str
    locked_until: datetime | None = None
    name: str | None = None  # the stored spelling of the name (names are case-insensitive)


@dataclass(frozen=True)
class CodeResult(Generic[T]):
    """The answer to a throttled code: what ``lookup`` found (None: nothing), and until when
    this address may not try again (set while refused, and by the failure that started a lock)."""

    value: T | None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class _Count:
    refused_until: datetime | None  # locked: the attempt was not counted and must not be checked
    failures: int = 0
    locks: datetime | None = None  # the lock this attempt starts should it fail


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


def client_key(address: str | None) -> str:
    """The key an address is counted under: IPv4 as is, IPv6 by its /64 network (one
    household or host usually holds a whole /64), ``UNKNOWN_CLIENT`` when unknown."""
    if not address or not isinstance(address, str):
        return UNKNOWN_CLIENT
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return "?" + text[:64]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return utc_now()
    return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)


def local_time(moment: datetime) -> str:
    """``HH:MM`` in local time, rounded up to the minute (when a lock has passed)."""
    local = moment.astimezone(ZoneInfo(LOCAL_TZ))
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return local.strftime("%H:%M")


def locked_message(locked_until: datetime) -> str:
    """The lock notice with the local time (rounded up to the minute) when signing in works again."""
    return MSG_LOCKED.format(time=local_time(locked_until))


def key_path(accounts_path: str | os.PathLike) -> Path:
    """The file holding the key of the audit pseudonyms, beside the accounts file."""
    path = Path(accounts_path)
    return path.with_name(path.name + ".key")


def _load_key(path: Path) -> bytes:
    """The key in ``path``; created (32 random bytes, mode 0600) if there is none yet.

    Written to a temporary file and linked into place, so that processes starting
    at the same time all end up with the one key that won.
    """
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, secrets.token_bytes(32))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    key = path.read_bytes()
    if len(key) < 32:
        raise OSError(f"the key file {path} is damaged; remove it to create a new one")
    return key


class AccountStore:
    """Accounts in one SQLite file; safe to share between threads and processes.

    ``hasher``: the argon2 parameters for new hashes (default: argon2-cffi's
    defaults; tests pass a cheap one). ``audit``: where account changes, failed
    sign-ins and join codes, and locks are recorded (same transaction when it is
    the same file).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, hasher: PasswordHasher | None = None,
                 audit: AuditLog | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.hasher = hasher or PasswordHasher()
        self.audit = audit
        self._dummy: str | None = None
        self._key: bytes | None = None
        initialise(self.path, _SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the ``disabled`` column to files made before it existed."""
        if "disabled" in self._columns():
            return
        with transaction(self.path) as conn:
            if "disabled" not in {r["name"] for r in conn.execute("PRAGMA table_info(accounts)")}:
                conn.execute("ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")

    def _columns(self) -> set[str]:
        return {r["name"] for r in self._read("PRAGMA table_info(accounts)")}

    # -- reading -----------------------------------------------------------
    _SELECT = (
        "SELECT a.name, a.role, a.created, a.disabled, f.locked_until FROM accounts a "
        "LEFT JOIN (SELECT subject, max(locked_until) AS locked_until FROM throttle "
        "WHERE scope = 'login' GROUP BY subject) f ON f.subject = lower(a.name)"
    )

    def list(self, now: datetime | None = None) -> list[dict]:
        """All accounts by name: name, role, created, disabled, locked_until (the end of the
        latest lock from any address, None unless one holds now). No hashes."""
        now = _utc(now)
        rows = self._read(self._SELECT + " ORDER BY a.name COLLATE NOCASE")
        return [self._public(row, now) for row in rows]

    def get(self, name: str, now: datetime | None = None) -> dict | None:
        """The account (as in ``list``) or None if there is none of that name."""
        if not valid_name(name):
            return None
        rows = self._read(self._SELECT + " WHERE a.name = ?", (name,))
        return self._public(rows[0], _utc(now)) if rows else None

    def lookup(self, name: str) -> dict | None:
        """name, role, created (as stored, text) and disabled of an account, or None: one indexed
        read, cheap enough to check a signed-in session on every interaction."""
        if not valid_name(name):
            return None
        rows = self._read("SELECT name, role, created, disabled FROM accounts WHERE name = ?", (name,))
        if not rows:
            return None
        row = rows[0]
        return {"name": row["name"], "role": row["role"], "created": row["created"], "disabled": bool(row["disabled"])}

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
            "disabled": bool(row["disabled"]),
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
                (name, role, hashed, utc_now().isoformat(timespec="microseconds")),
            )
            self._record(conn, actor, "account_add", name, f"role={role}")

    def remove(self, name: str, *, actor: str = "cli") -> None:
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            conn.execute("DELETE FROM accounts WHERE name = ?", (stored,))
            self._unlock(conn, stored)
            self._end_account_sessions(conn, stored)
            self._record(conn, actor, "account_remove", stored)

    def set_role(self, name: str, role: str, *, actor: str = "cli") -> None:
        check_role(role)
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            old = conn.execute("SELECT role FROM accounts WHERE name = ?", (stored,)).fetchone()["role"]
            conn.execute("UPDATE accounts SET role = ? WHERE name = ?", (role, stored))
            self._record(conn, actor, "account_set_role", stored, f"role={old} -> {role}")

    def set_password(self, name: str, password: str, *, actor: str = "cli") -> None:
        """New password; also lifts the locks on the name and ends the account's sessions."""
        if not valid_name(name):
            raise AccountError(f"unknown account '{name}'")
        hashed = self._hash(password)
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            conn.execute("UPDATE accounts SET hash = ? WHERE name = ?", (hashed, stored))
            self._unlock(conn, stored)
            self._end_account_sessions(conn, stored)
            self._record(conn, actor, "account_set_password", stored)

    def set_disabled(self, name: str, disabled: bool, *, actor: str = "cli") -> None:
        """Disable an account (it cannot sign in, open sessions end) or enable it again."""
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            conn.execute("UPDATE accounts SET disabled = ? WHERE name = ?", (int(bool(disabled)), stored))
            if disabled:
                self._end_account_sessions(conn, stored)
            self._record(conn, actor, "account_disable" if disabled else "account_enable", stored)

    def unlock(self, name: str, *, actor: str = "cli") -> int:
        """Lift the sign-in locks and failure counts of an account from every address; how many were there."""
        with transaction(self.path) as conn:
            stored = self._existing(conn, name)
            lifted = self._unlock(conn, stored)
            self._record(conn, actor, "account_unlock", stored, f"{lifted} address(es)")
        return lifted

    @staticmethod
    def _unlock(conn: sqlite3.Connection, stored: str) -> int:
        cur = conn.execute("DELETE FROM throttle WHERE scope = ? AND subject = ?", (SIGN_IN.scope, stored.lower()))
        return cur.rowcount

    # -- signing in --------------------------------------------------------
    def authenticate(self, name: str, password: str, now: datetime | None = None, *,
                     client: str | None = None) -> AuthResult:
        """Check a sign-in from the address ``client`` (None: unknown). ``now`` (UTC) is
        injectable for tests. Failed attempts and locks are recorded in the audit log."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        if not isinstance(name, str):
            raise TypeError("name must be a str")
        now = _utc(now)
        client = self._client_id(client)
        account, count, subject = None, _Count(None), None
        if valid_name(name):  # other names cannot exist; nothing to track
            with transaction(self.path) as conn:
                account = conn.execute("SELECT name, role, hash, disabled FROM accounts WHERE name = ?",
                                       (name,)).fetchone()
                subject = self._subject(account, name)
                count = self._count(conn, SIGN_IN, subject, client, now)
        label = account["name"] if account is not None else self._unknown_name(name)
        if count.refused_until is not None:
            message = locked_message(count.refused_until)
            self._note(label, "login_failed", label, f"{message} ({self._client_label(client)})")
            return AuthResult(False, None, message, count.refused_until)

        # The slow part, outside any transaction; unknown names cost the same.
        dummy = self._dummy_hash()  # made on the first sign-in of any name: no one-off delay for unknown ones
        hashed = account["hash"] if account is not None else dummy
        verified = self._verify(hashed, password) and account is not None and not account["disabled"]

        if verified:
            fresh = self.hasher.hash(password) if self._needs_rehash(hashed) else None
            with transaction(self.path) as conn:
                current = conn.execute("SELECT name, role, hash, disabled FROM accounts WHERE name = ?",
                                       (account["name"],)).fetchone()
                # removed, disabled, or the password changed meanwhile: the checked one is no longer valid
                if current is not None and current["hash"] == hashed and not current["disabled"]:
                    conn.execute("DELETE FROM throttle WHERE scope = ? AND subject = ? AND client = ?",
                                 (SIGN_IN.scope, subject, client))
                    if fresh is not None:
                        conn.execute("UPDATE accounts SET hash = ? WHERE name = ?", (fresh, current["name"]))
                    return AuthResult(True, current["role"], MSG_OK, None, current["name"])
        message = locked_message(count.locks) if count.locks is not None else MSG_FAILED
        self._note(label, "login_failed", label, f"{message} ({self._client_label(client)})")
        if count.locks is not None:
            self._note(label, "account_lockout", label,
                       f"{count.failures} failed sign-ins in a row from {self._client_label(client)}; "
                       f"locked there until {count.locks.isoformat(timespec='seconds')}")
            return AuthResult(False, None, message, count.locks)
        return AuthResult(False, None, MSG_FAILED, None)

    def check_code(self, code: str, lookup: Callable[[str], T | None], now: datetime | None = None, *,
                   client: str | None = None) -> CodeResult[T]:
        """Try a workshop join code from the address ``client``: ``lookup(code)`` answers whether it
        is valid (anything but None). Wrong codes are throttled per address (``JOIN``); right ones
        are not counted. While the address is locked even a right code is refused, and the answer
        is only given after the count has been taken in one write transaction, so that parallel
        attempts learn nothing past the limit. The typed code is never recorded, only its pseudonym."""
        now = _utc(now)
        client = self._client_id(client)
        typed = code.strip().upper() if isinstance(code, str) else ""
        label = "code:" + self.pseudonym("code", typed)
        found, count = None, _Count(self._lock_of(None, JOIN, "", client, now))  # while locked: not even looked up
        if count.refused_until is None:
            found = lookup(code)
            with transaction(self.path) as conn:
                if found is None:
                    count = self._count(conn, JOIN, "", client, now)
                else:
                    count = _Count(self._lock_of(conn, JOIN, "", client, now))
        if count.refused_until is not None:
            self._note("-", "join_failed", label,
                       f"refused: locked until {count.refused_until.isoformat(timespec='seconds')} "
                       f"({self._client_label(client)})")
            return CodeResult(None, count.refused_until)
        if found is not None:
            return CodeResult(found, None)
        self._note("-", "join_failed", label, self._client_label(client))
        if count.locks is not None:
            self._note("-", "join_lockout", self._client_label(client),
                       f"{count.failures} wrong join codes in a row; locked until {count.locks.isoformat(timespec='seconds')}")
        return CodeResult(None, count.locks)

    def _lock_of(self, conn: sqlite3.Connection | None, throttle: Throttle, subject: str, client: str,
                 now: datetime) -> datetime | None:
        """The end of the lock holding now, else None (in ``conn``'s transaction, or a plain read)."""
        sql = "SELECT locked_until FROM throttle WHERE scope = ? AND subject = ? AND client = ?"
        params = (throttle.scope, subject, client)
        rows = conn.execute(sql, params).fetchall() if conn is not None else self._read(sql, params)
        locked = _parse(rows[0]["locked_until"]) if rows else None
        return locked if locked is not None and now < locked else None

    def throttle_state(self, scope: str, subject: str = "", client: str | None = None) -> dict | None:
        """The stored count of one (scope, subject, client): failures, last_failed, locked_until."""
        rows = self._read("SELECT failures, last_failed, locked_until FROM throttle "
                          "WHERE scope = ? AND subject = ? AND client = ?", (scope, subject, self._client_id(client)))
        if not rows:
            return None
        row = rows[0]
        return {"failures": row["failures"], "last_failed": _parse(row["last_failed"]),
                "locked_until": _parse(row["locked_until"])}

    # -- throttling --------------------------------------------------------
    @staticmethod
    def _count(conn: sqlite3.Connection, throttle: Throttle, subject: str, client: str, now: datetime) -> _Count:
        """Count a failed attempt inside the caller's write transaction; refused (not counted) while
        locked. Sign-ins count before the password is checked, so that parallel attempts cannot get
        past the limit; a success then clears the count."""
        row = conn.execute(
            "SELECT failures, last_failed, locked_until FROM throttle WHERE scope = ? AND subject = ? AND client = ?",
            (throttle.scope, subject, client),
        ).fetchone()
        failures = 0
        if row is not None:
            locked_until = _parse(row["locked_until"])
            if locked_until is not None and now < locked_until:
                return _Count(locked_until, row["failures"])
            quiet_since = max(_parse(row["last_failed"]), locked_until or datetime.min.replace(tzinfo=timezone.utc))
            if now - quiet_since < throttle.memory:
                failures = row["failures"]
        failures += 1
        delay = throttle.delay(failures)
        locks = now + delay if delay is not None else None
        conn.execute(
            "INSERT INTO throttle (scope, subject, client, failures, last_failed, locked_until) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, subject, client) DO UPDATE SET "
            "failures = excluded.failures, last_failed = excluded.last_failed, locked_until = excluded.locked_until",
            (throttle.scope, subject, client, failures, _iso(now), _iso(locks) if locks else None),
        )
        # forget counts that have been quiet long enough (ISO times in UTC compare as text)
        conn.execute(
            "DELETE FROM throttle WHERE scope = ? AND max(last_failed, coalesce(locked_until, last_failed)) < ?",
            (throttle.scope, _iso(now - throttle.memory)),
        )
        return _Count(None, failures, locks)

    # -- server-side sessions ----------------------------------------------
    _SESSION_COLUMNS = ("id, account, role, via, account_created, workshop_id, participant, created, "
                        "last_seen, client")

    def session_id(self, token: str) -> str:
        """What a session is stored under: the keyed hash of its token (the token is never stored)."""
        return self._keyed("session", token)

    def open_session(self, account: str, role: str, via: str, *, account_created: str | None = None,
                     workshop_id: str | None = None, participant: str | None = None,
                     client: str | None = None, now: datetime | None = None,
                     idle: timedelta | None = None) -> tuple[str, Session] | None:
        """Start a session; returns the token for the browser and the stored session.

        With ``account_created`` the session belongs to the account ``account``: it is only
        started while that account (created then) exists and is enabled, checked in the same
        transaction (else None). With ``idle``, sessions unused for longer are deleted first."""
        check_role(role)
        now = _utc(now)
        token = secrets.token_urlsafe(32)
        sid, client = self.session_id(token), self._client_id(client)
        with transaction(self.path) as conn:
            if idle is not None:
                conn.execute("DELETE FROM sessions WHERE last_seen < ?", (_iso(now - idle),))
            if account_created is not None:
                row = conn.execute("SELECT name, created, disabled FROM accounts WHERE name = ?", (account,)).fetchone()
                if row is None or row["created"] != account_created or row["disabled"]:
                    return None
                account = row["name"]
            conn.execute(
                f"INSERT INTO sessions ({self._SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, account, role, via, account_created, workshop_id, participant, _iso(now), _iso(now), client),
            )
        return token, Session(sid, account, role, via, account_created, workshop_id, participant, now, now, client)

    def find_session(self, token: object) -> Session | None:
        """The session of a browser's token, or None (unknown, ended, or not a token at all).
        Whether it has been idle too long is for the caller to decide (:meth:`Session.idle`)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return self.session(self.session_id(token))

    def session(self, sid: str) -> Session | None:
        """The stored session ``sid`` (a keyed hash), or None: one indexed read."""
        rows = self._read(f"SELECT {self._SESSION_COLUMNS} FROM sessions WHERE id = ?", (sid,))
        return self._session(rows[0]) if rows else None

    def sessions_of(self, name: str) -> list[Session]:
        """The sessions of the account ``name`` (any spelling), oldest first."""
        rows = self._read(f"SELECT {self._SESSION_COLUMNS} FROM sessions WHERE account = ? "
                          "AND account_created IS NOT NULL ORDER BY created", (name,))
        return [self._session(row) for row in rows]

    def touch_session(self, sid: str, now: datetime | None = None) -> bool:
        """Note that the session was used now; False if it no longer exists. Callers write at
        most every ``SESSION_TOUCH`` (they have just read ``last_seen``)."""
        now = _utc(now)
        with transaction(self.path) as conn:
            conn.execute("UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen < ?", (_iso(now), sid, _iso(now)))
            return conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is not None

    def set_session_role(self, sid: str, role: str) -> None:
        """The role a live session has taken on (its account's new role)."""
        check_role(role)
        with transaction(self.path) as conn:
            conn.execute("UPDATE sessions SET role = ? WHERE id = ?", (role, sid))

    def end_session(self, sid: str) -> bool:
        """Delete one session (signing out); True if it existed."""
        with transaction(self.path) as conn:
            return conn.execute("DELETE FROM sessions WHERE id = ?", (sid,)).rowcount > 0

    def end_sessions(self, name: str) -> int:
        """Delete every session of the account ``name``; how many there were."""
        with transaction(self.path) as conn:
            return self._end_account_sessions(conn, name)

    @staticmethod
    def _end_account_sessions(conn: sqlite3.Connection, stored: str) -> int:
        return conn.execute("DELETE FROM sessions WHERE account = ? AND account_created IS NOT NULL",
                            (stored,)).rowcount

    @staticmethod
    def _session(row: sqlite3.Row) -> Session:
        return Session(row["id"], row["account"], row["role"], row["via"], row["account_created"],
                       row["workshop_id"], row["participant"], _parse(row["created"]), _parse(row["last_seen"]),
                       row["client"])

    # -- pseudonyms for the audit log ----------------------------------------
    def pseudonym(self, kind: str, value: str) -> str:
        """A keyed hash (HMAC-SHA256, first ``PSEUDONYM_LENGTH`` hex digits) of ``value``: equal
        values give equal pseudonyms, and without the key file nothing can be tried against them."""
        return self._keyed(kind, value)[:PSEUDONYM_LENGTH]

    def _keyed(self, kind: str, value: str) -> str:
        """HMAC-SHA256 of ``value`` (in the domain ``kind``) with the key beside the file, in hex."""
        if self._key is None:
            self._key = _load_key(key_path(self.path))
        digest = hmac.new(self._key, f"{kind}\x00{value}".encode("utf-8", "surrogatepass"), hashlib.sha256)
        return digest.hexdigest()

    def _unknown_name(self, typed: str) -> str:
        """How a typed name that is no account appears in the audit log (``unknown:`` + pseudonym;
        ':' cannot occur in account names)."""
        return "unknown:" + self.pseudonym("name", typed.strip().lower())

    def _subject(self, account: sqlite3.Row | None, typed: str) -> str:
        """What sign-in failures are counted under: the account's name in lower case, or for
        names that are no account a pseudonym ('~' cannot occur in names), so that nothing typed
        into the name field is kept."""
        return account["name"].lower() if account is not None else "~" + self.pseudonym("name", typed.lower())

    def _client_id(self, address: str | None) -> str:
        """What an address is counted and recorded under: the pseudonym of its ``client_key``
        (addresses are personal data: neither the throttle table nor the log keeps them)."""
        key = client_key(address)
        return UNKNOWN_CLIENT if key == UNKNOWN_CLIENT else self.pseudonym("client", key)

    @staticmethod
    def _client_label(client: str) -> str:
        return "client=" + client

    def audit_name(self, typed: str) -> str:
        """What the audit log may show for a typed name: the account's stored name, else a pseudonym."""
        account = self.lookup(typed) if isinstance(typed, str) else None
        return account["name"] if account else self._unknown_name(str(typed))

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

    def _note(self, actor: str, action: str, target: str, detail: str = "") -> None:
        """Record a sign-in event in its own transaction."""
        if self.audit is not None:
            self.audit.record(actor, action, target, detail)

    def _record(self, conn: sqlite3.Connection, actor: str, action: str, target: str, detail: str = "") -> None:
        """Record a change; in the change's own transaction when the audit log is in the same file."""
        if self.audit is None:
            return
        if self.audit.path.resolve() == self.path.resolve():
            self.audit._insert(conn, actor, action, target, detail)
        else:
            # another file: recorded before the change commits; a failed change leaves a superfluous entry
            self.audit.record(actor, action, target, detail)
