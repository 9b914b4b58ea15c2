"""Append-only audit log, kept in the accounts database next to the data.

Who did what and when: sign-ins, account changes, exports. Entries can only be
added. The database itself refuses to change or delete them: triggers abort
every UPDATE and DELETE on the table, and every INSERT that would overwrite an
existing entry (``INSERT OR REPLACE``). Someone with write access to the file
can still replace the whole file; keep it readable for the app's OS user only
(new files are created with mode 0600).

``connect`` is the one way this package opens that SQLite file: WAL mode and a
busy timeout, so that several Streamlit sessions and the command line can use
it at the same time; ``transaction`` wraps writes (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

BUSY_TIMEOUT_SECONDS = 30.0
COLUMNS = ["id", "at", "actor", "action", "target", "detail"]
# Cells starting with these are formulas for spreadsheet software (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor);
CREATE INDEX IF NOT EXISTS audit_action ON audit (action);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only: entries cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only: entries cannot be deleted');
END;
CREATE TRIGGER IF NOT EXISTS audit_no_overwrite BEFORE INSERT ON audit
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only: entries cannot be replaced');
END;
"""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def connect(path: str | os.PathLike) -> sqlite3.Connection:
    """A connection in autocommit mode with a busy timeout; creates the file (mode 0600) if needed.

    Open one connection per operation and close it again: connections are
    cheap, and this keeps the classes safe to share between threads.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # SQLite's -wal/-shm files inherit the mode
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def transaction(path: str | os.PathLike) -> Iterator[sqlite3.Connection]:
    """A write transaction: takes the write lock at once (waits up to the busy timeout), commits or rolls back."""
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


def initialise(path: str | os.PathLike, schema: str) -> None:
    """Switch the file to WAL mode (persistent) and create ``schema`` (idempotent DDL) in one transaction."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        conn = connect(path)
        try:
            # changing the journal mode needs the file to itself and may fail without waiting
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            conn.close()
    with transaction(path) as conn:
        for statement in _statements(schema):
            conn.execute(statement)


def _statements(script: str) -> list[str]:
    """Split a script of DDL statements (triggers contain ';' inside BEGIN ... END)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


class AuditLog:
    """The ``audit`` table of one SQLite file (usually the accounts file, see ``loaders.accounts.default_path``)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        initialise(self.path, _SCHEMA)

    def record(self, actor: str, action: str, target: str = "", detail: str = "") -> int:
        """Append one entry (time: now, UTC); returns its id."""
        with transaction(self.path) as conn:
            return self._insert(conn, actor, action, target, detail)

    def _insert(self, conn: sqlite3.Connection, actor: str, action: str, target: str = "", detail: str = "") -> int:
        """Append inside a transaction the caller holds on the same file (account change and its entry together)."""
        actor, action = str(actor or "").strip(), str(action or "").strip()
        if not actor or not action:
            raise ValueError("an audit entry needs an actor and an action")
        at = utc_now().isoformat(timespec="seconds")
        cur = conn.execute(
            "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            (at, actor, action, str(target or ""), str(detail or "")),
        )
        return int(cur.lastrowid)

    def _rows(self, limit: int | None, actor: str | None, action: str | None) -> list[sqlite3.Row]:
        where, params = [], []
        if actor is not None:
            where.append("actor = ?")
            params.append(actor)
        if action is not None:
            where.append("action = ?")
            params.append(action)
        sql = "SELECT id, at, actor, action, target, detail FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            if int(limit) < 0:
                raise ValueError("limit must not be negative")
            sql += " LIMIT ?"
            params.append(int(limit))
        conn = connect(self.path)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def entries(self, limit: int | None = None, actor: str | None = None, action: str | None = None) -> pd.DataFrame:
        """Entries, newest first: id, at (UTC timestamp), actor, action, target, detail."""
        import pandas as pd  # imported late: keeps the command line quick

        frame = pd.DataFrame([tuple(r) for r in self._rows(limit, actor, action)], columns=COLUMNS)
        frame["id"] = frame["id"].astype("int64")
        frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
        for column in COLUMNS[2:]:
            frame[column] = frame[column].astype(object)
        return frame

    def to_csv(self, sep: str = ";") -> bytes:
        """All entries, newest first, as CSV for German office software (';', UTF-8 with BOM).

        Times stay ISO 8601 (UTC) as stored; text that a spreadsheet would run as
        a formula (``=``, ``+``, ``-``, ``@`` at the start; names typed into the
        sign-in form end up here) is prefixed with an apostrophe.
        """
        import pandas as pd

        frame = pd.DataFrame([tuple(r) for r in self._rows(None, None, None)], columns=COLUMNS)
        for column in COLUMNS[2:]:
            frame[column] = frame[column].map(_defuse)
        return frame.to_csv(index=False, sep=sep).encode("utf-8-sig")


def _defuse(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value
