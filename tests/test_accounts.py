"""Accounts, sign-in throttling, the append-only audit log and the user CLI."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher

from dashboard import users
from loaders import accounts
from loaders.accounts import MAX_FAILURES, MSG_FAILED, ROLES, SIGN_IN, AccountError, AccountStore, default_path
from loaders.audit import AuditLog

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Kassberg-Sonnenberg-2025"
T0 = datetime(2025, 6, 2, 8, 0, tzinfo=timezone.utc)
LOCKOUT = SIGN_IN.first_delay  # the first lock; each further failure doubles it


def cheap() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class CountingHasher(PasswordHasher):
    """A cheap hasher that counts verifications (each one is the expensive step of a sign-in)."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "atlas-accounts.sqlite"


@pytest.fixture
def log(path) -> AuditLog:
    return AuditLog(path)


@pytest.fixture
def store(path, log) -> AccountStore:
    return AccountStore(path, hasher=cheap(), audit=log)


def stored_hash(path: Path, name: str) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT hash FROM accounts WHERE name = ?", (name,)).fetchone()[0]


# -- where the file lives -----------------------------------------------------
def test_default_path_next_to_the_store(monkeypatch, tmp_path):
    monkeypatch.delenv("ATLAS_ACCOUNTS", raising=False)
    monkeypatch.delenv("ATLAS_DB", raising=False)
    assert default_path() == ROOT / "data" / "atlas-accounts.sqlite"
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "elsewhere" / "city.gpkg"))
    assert default_path() == tmp_path / "elsewhere" / "atlas-accounts.sqlite"
    assert default_path(str(tmp_path / "x.gpkg")) == tmp_path / "atlas-accounts.sqlite"
    monkeypatch.setenv("ATLAS_ACCOUNTS", str(tmp_path / "acc.sqlite"))
    assert default_path() == tmp_path / "acc.sqlite"


def test_file_is_private_and_in_wal_mode(store, path):
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- hashing ------------------------------------------------------------------
def test_only_an_argon2_hash_is_stored(store, path):
    store.add("anna", "admin", PASSWORD)
    hashed = stored_hash(path, "anna")
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert cheap().verify(hashed, PASSWORD)
    assert store.authenticate("anna", PASSWORD).ok
    assert PASSWORD.encode() not in path.read_bytes()


def test_rehash_on_login_when_parameters_changed(path):
    old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    AccountStore(path, hasher=old).add("anna", "council", PASSWORD)
    old_hash = stored_hash(path, "anna")
    store = AccountStore(path, hasher=cheap())
    assert store.hasher.check_needs_rehash(old_hash)

    result = store.authenticate("anna", PASSWORD)

    assert result.ok and result.role == "council"
    new_hash = stored_hash(path, "anna")
    assert new_hash != old_hash and not store.hasher.check_needs_rehash(new_hash)
    assert store.authenticate("anna", PASSWORD).ok
    assert stored_hash(path, "anna") == new_hash  # no rehash when the parameters are current


def test_the_default_hasher_is_argon2_cffis_default(path):
    assert AccountStore(path).hasher.time_cost == PasswordHasher().time_cost
    assert AccountStore(path).hasher.memory_cost == PasswordHasher().memory_cost


# -- managing accounts ----------------------------------------------------------
def test_add_list_set_role_remove(store):
    store.add("anna", "admin", PASSWORD)
    store.add("ben.mueller@chemnitz.de", "workshop", PASSWORD)
    listed = store.list()
    assert [a["name"] for a in listed] == ["anna", "ben.mueller@chemnitz.de"]
    assert set(listed[0]) == {"name", "role", "created", "disabled", "locked_until"}
    assert listed[0]["role"] == "admin" and listed[0]["locked_until"] is None
    assert listed[0]["created"].tzinfo is not None

    store.set_role("anna", "council")
    assert store.get("anna")["role"] == "council"
    assert store.get("ANNA")["name"] == "anna"  # names are case-insensitive

    store.remove("anna")
    assert store.get("anna") is None
    assert [a["name"] for a in store.list()] == ["ben.mueller@chemnitz.de"]


def test_refusals(store):
    store.add("anna", "admin", PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        store.add("anna", "council", PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        store.add("Anna", "council", PASSWORD)
    with pytest.raises(AccountError, match="unknown role"):
        store.add("carla", "superuser", PASSWORD)
    with pytest.raises(AccountError, match="unknown role"):
        store.set_role("anna", "root")
    with pytest.raises(AccountError, match="at least 10"):
        store.add("carla", "public", "short-pw1")
    with pytest.raises(AccountError, match="at least 10"):
        store.set_password("anna", "123456789")
    for bad in ("", "x" * 65, "anna mueller", "anna;drop", "jürgen", "a/b"):
        with pytest.raises(AccountError, match="invalid name"):
            store.add(bad, "public", PASSWORD)
    for change in (lambda: store.remove("nobody"), lambda: store.set_role("nobody", "admin"),
                   lambda: store.set_password("nobody", PASSWORD)):
        with pytest.raises(AccountError, match="unknown account"):
            change()
    assert issubclass(AccountError, ValueError)
    assert [a["name"] for a in store.list()] == ["anna"]
    assert ROLES == ("admin", "council", "workshop", "public")


def test_set_password(store):
    store.add("anna", "admin", PASSWORD)
    store.set_password("anna", "ein-ganz-neues-passwort")
    assert not store.authenticate("anna", PASSWORD).ok
    assert store.authenticate("anna", "ein-ganz-neues-passwort").ok


# -- signing in and throttling ----------------------------------------------
def test_wrong_password_and_unknown_name_look_the_same(path):
    hasher = CountingHasher()
    store = AccountStore(path, hasher=hasher)
    store.add("anna", "admin", PASSWORD)

    wrong = store.authenticate("anna", "falsches-passwort", now=T0)
    unknown = store.authenticate("niemand", PASSWORD, now=T0)

    assert wrong == unknown
    assert (wrong.ok, wrong.role, wrong.message, wrong.locked_until) == (False, None, MSG_FAILED, None)
    assert hasher.verified == 2  # the unknown name cost an argon2 verification too


def test_lockout_after_five_failures(store, log):
    store.add("anna", "admin", PASSWORD)
    for i in range(MAX_FAILURES - 1):
        result = store.authenticate("anna", "falsch-falsch", now=T0 + timedelta(minutes=i))
        assert not result.ok and result.locked_until is None
    fifth = store.authenticate("anna", "falsch-falsch", now=T0 + timedelta(minutes=4))
    until = T0 + timedelta(minutes=4) + LOCKOUT
    assert not fifth.ok and fifth.locked_until == until
    assert "10:05 Uhr" in fifth.message  # local time (CEST) of 08:05 UTC

    # during the lock even the right password fails, and it says until when
    during = store.authenticate("anna", PASSWORD, now=until - timedelta(seconds=1))
    assert not during.ok and during.locked_until == until and "10:05 Uhr" in during.message
    assert store.get("anna", now=until - timedelta(seconds=1))["locked_until"] == until
    assert store.get("anna", now=until)["locked_until"] is None

    after = store.authenticate("anna", PASSWORD, now=until)
    assert after.ok and after.role == "admin"
    assert log.entries(action="account_lockout")["target"].tolist() == ["anna"]


def test_locked_attempts_do_not_check_the_password(path):
    hasher = CountingHasher()
    store = AccountStore(path, hasher=hasher)
    store.add("anna", "admin", PASSWORD)
    for _ in range(MAX_FAILURES):
        store.authenticate("anna", "falsch-falsch", now=T0)
    before = hasher.verified
    assert not store.authenticate("anna", PASSWORD, now=T0 + timedelta(seconds=59)).ok
    assert hasher.verified == before


def test_success_resets_the_counter(store):
    store.add("anna", "admin", PASSWORD)
    for round_ in range(3):
        for _ in range(MAX_FAILURES - 1):
            assert store.authenticate("anna", "falsch-falsch", now=T0).locked_until is None
        assert store.authenticate("anna", PASSWORD, now=T0).ok
    # after a lock, each further failure locks again, twice as long; a success starts anew
    for _ in range(MAX_FAILURES):
        store.authenticate("anna", "falsch-falsch", now=T0)
    later = T0 + LOCKOUT
    assert store.authenticate("anna", "falsch-falsch", now=later).locked_until == later + 2 * LOCKOUT
    assert store.authenticate("anna", PASSWORD, now=later + 2 * LOCKOUT).ok
    assert store.authenticate("anna", "falsch-falsch", now=later + 2 * LOCKOUT).locked_until is None


def test_unknown_names_are_throttled_the_same_way(store):
    store.add("anna", "admin", PASSWORD)
    results = {}
    for name in ("anna", "niemand"):
        results[name] = [store.authenticate(name, "falsch-falsch", now=T0) for _ in range(MAX_FAILURES + 1)]
    assert results["anna"] == results["niemand"]
    assert results["niemand"][-1].locked_until == T0 + LOCKOUT
    # names that cannot exist are refused like any other
    assert store.authenticate("x" * 200, PASSWORD, now=T0).message == MSG_FAILED


def test_new_password_lifts_the_lock(store):
    store.add("anna", "admin", PASSWORD)
    for _ in range(MAX_FAILURES):
        store.authenticate("anna", "falsch-falsch", now=T0)
    store.set_password("anna", "ein-ganz-neues-passwort")
    assert store.authenticate("anna", "ein-ganz-neues-passwort", now=T0).ok


def test_parallel_guessing_cannot_pass_the_limit(path):
    hasher = CountingHasher()
    store = AccountStore(path, hasher=hasher)
    store.add("anna", "admin", PASSWORD)
    barrier = threading.Barrier(16)

    def guess():
        barrier.wait()
        store.authenticate("anna", "falsch-falsch", now=T0)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hasher.verified == MAX_FAILURES
    assert store.get("anna", now=T0)["locked_until"] == T0 + LOCKOUT


# -- audit log ------------------------------------------------------------------
def test_account_changes_are_audited_without_passwords(store, log):
    store.add("anna", "admin", PASSWORD, actor="cli:root")
    store.set_role("anna", "council", actor="ben")
    store.set_password("anna", "ein-ganz-neues-passwort", actor="ben")
    store.remove("anna", actor="ben")
    with pytest.raises(AccountError):
        store.remove("anna", actor="ben")  # refused: nothing recorded
    frame = log.entries()
    assert frame["action"].tolist() == ["account_remove", "account_set_password", "account_set_role", "account_add"]
    assert frame["actor"].tolist() == ["ben", "ben", "ben", "cli:root"]
    assert set(frame["target"]) == {"anna"}
    assert frame.loc[frame["action"] == "account_set_role", "detail"].item() == "role=admin -> council"
    text = log.to_csv().decode("utf-8-sig")
    assert PASSWORD not in text and "ein-ganz-neues-passwort" not in text
    assert store.add.__kwdefaults__["actor"] == "cli"


def test_audit_log_is_append_only_in_the_database(log, path):
    first = log.record("anna", "export", "incidents", "csv")
    log.record("ben", "login")
    conn = sqlite3.connect(path)
    try:
        for statement in ("UPDATE audit SET actor = 'mallory' WHERE id = 1",
                          "DELETE FROM audit WHERE id = 1",
                          "DELETE FROM audit",
                          "INSERT OR REPLACE INTO audit (id, at, actor, action) VALUES (1, 'x', 'mallory', 'nothing')"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement)
            conn.rollback()
        conn.execute("INSERT INTO audit (at, actor, action) VALUES ('2025-01-01T00:00:00+00:00', 'x', 'y')")
        conn.commit()
    finally:
        conn.close()
    entries = log.entries()
    assert len(entries) == 3
    assert entries.loc[entries["id"] == first, "actor"].item() == "anna"


def test_entries_and_csv(log):
    log.record("anna", "login")
    log.record("ben", "export", "incidents", "format=csv")
    log.record("anna", "export", "patrols", "Zeitraum: März")
    log.record("=HYPERLINK(\"http://x\")", "login_failed", "-attack", "")

    frame = log.entries()
    assert list(frame.columns) == ["id", "at", "actor", "action", "target", "detail"]
    assert frame["id"].tolist() == [4, 3, 2, 1]  # newest first
    assert str(frame["at"].dt.tz) == "UTC"
    assert log.entries(limit=2)["id"].tolist() == [4, 3]
    assert log.entries(actor="anna")["id"].tolist() == [3, 1]
    assert log.entries(action="export", actor="ben")["target"].tolist() == ["incidents"]
    assert log.entries(actor="nobody").empty
    with pytest.raises(ValueError):
        log.record("", "login")

    data = log.to_csv()
    assert isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), sep=";", encoding="utf-8-sig", keep_default_na=False)
    assert back["id"].tolist() == [4, 3, 2, 1]
    assert back.loc[1, "detail"] == "Zeitraum: März"
    assert datetime.fromisoformat(back.loc[0, "at"]).tzinfo is not None
    # spreadsheet formulas are defused
    assert back.loc[0, "actor"].startswith("'=") and back.loc[0, "target"] == "'-attack"


def test_empty_log(log):
    frame = log.entries()
    assert frame.empty and list(frame.columns) == ["id", "at", "actor", "action", "target", "detail"]
    assert log.to_csv().decode("utf-8-sig").strip() == "id;at;actor;action;target;detail"


def test_eight_threads_lose_nothing(path):
    errors = []
    barrier = threading.Barrier(8)

    def work(i: int):
        try:
            barrier.wait()
            log = AuditLog(path)  # each thread opens the (new) file itself
            store = AccountStore(path, hasher=cheap(), audit=log)
            for j in range(5):
                store.add(f"user{i}-{j}", ROLES[j % len(ROLES)], PASSWORD, actor=f"t{i}")
                log.record(f"t{i}", "export", f"layer{j}")
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(AccountStore(path, hasher=cheap()).list()) == 40
    entries = AuditLog(path).entries()
    assert len(entries) == 80 and entries["id"].is_unique
    assert (entries["action"] == "account_add").sum() == 40


# -- command line -------------------------------------------------------------------
def cli(*args, password: str | None = PASSWORD, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ATLAS_PASSWORD", "ATLAS_ACCOUNTS")}
    if password is not None:
        env["ATLAS_PASSWORD"] = password
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "dashboard.users", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli(tmp_path):
    path = tmp_path / "acc.sqlite"
    where = ["--accounts", str(path)]
    outputs = []

    def run(*args, code=0):
        done = cli(*where, *args)
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == code, done.stderr
        return done

    run("add", "anna@chemnitz.de", "--role", "council")
    listed = run("list").stdout
    assert "anna@chemnitz.de" in listed and "council" in listed
    run("set-role", "anna@chemnitz.de", "admin")
    assert "admin" in run("list").stdout
    failed = run("set-role", "anna@chemnitz.de", "king", code=2)
    assert failed.stdout == "" and len(failed.stderr.strip().splitlines()) == 1 and "unknown role" in failed.stderr
    failed = run("add", "carla", "--role", "king", code=2)
    assert len(failed.stderr.strip().splitlines()) == 1
    assert len(run("frobnicate", code=2).stderr.strip().splitlines()) == 1
    run("remove", "anna@chemnitz.de")
    assert "anna@chemnitz.de" not in run("list").stdout
    run("remove", "anna@chemnitz.de", code=2)

    assert all(PASSWORD not in out for out in outputs)
    for file in tmp_path.iterdir():  # the database and any -wal/-shm files
        assert PASSWORD.encode() not in file.read_bytes()
    actions = AuditLog(path).entries()
    assert actions["action"].tolist() == ["account_remove", "account_set_role", "account_add"]
    assert actions["actor"].str.startswith("cli:").all()


def test_cli_passwd_and_short_password(tmp_path):
    path = tmp_path / "acc.sqlite"
    assert cli("--accounts", str(path), "add", "anna", "--role", "admin").returncode == 0
    done = cli("passwd", "anna", "--accounts", str(path), password="ein-ganz-neues-passwort")
    assert done.returncode == 0 and "ein-ganz-neues-passwort" not in done.stdout + done.stderr
    assert AccountStore(path).authenticate("anna", "ein-ganz-neues-passwort").ok
    done = cli("--accounts", str(path), "passwd", "anna", password="kurz")
    assert done.returncode == 2 and "at least 10" in done.stderr and "kurz" not in done.stderr
    # ATLAS_ACCOUNTS names the file when --accounts is not given
    done = cli("list", env_extra={"ATLAS_ACCOUNTS": str(path)})
    assert done.returncode == 0 and "anna" in done.stdout


def test_cli_asks_twice_and_refuses_mismatches(tmp_path, monkeypatch, capsys):
    path = tmp_path / "acc.sqlite"
    monkeypatch.delenv("ATLAS_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(users.getpass, "getpass", lambda prompt="": next(answers))
    assert users.main(["--accounts", str(path), "add", "anna", "--role", "admin"]) == 2
    assert "do not match" in capsys.readouterr().err
    assert AccountStore(path).list() == []

    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(accounts, "PasswordHasher", cheap)
    assert users.main(["--accounts", str(path), "add", "anna", "--role", "admin"]) == 0
    assert AccountStore(path, hasher=cheap()).authenticate("anna", PASSWORD).ok


def test_cli_does_not_import_streamlit():
    code = "import sys, dashboard.users; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_first_admin_only_when_there_is_no_account(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "acc.sqlite"
    cmd = [sys.executable, "-m", "dashboard.users", "--accounts", str(path), "first-admin"]
    env = {k: v for k, v in __import__("os").environ.items() if k != "ATLAS_PASSWORD"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if "Password:" in line)
    assert len(password) >= 12
    assert AccountStore(path).authenticate("admin", password).ok
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    assert again == ""  # accounts exist: nothing created, nothing printed
