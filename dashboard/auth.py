"""Sign-in, sessions and the audit trail of the dashboard.

Without a signed-in user the app serves nothing but the sign-in form. Roles
come from the account store next to the data (``python -m dashboard.users``);
single sign-on through Streamlit's OIDC login (``st.login``) is used when it is
configured in ``.streamlit/secrets.toml`` (the account store then maps the
e-mail address to a role). Sessions end after ``ATLAS_SESSION_MINUTES`` (30)
without activity.

A session signed in here with a password or through single sign-on is bound to
its account: every run of the script (every interaction) reads the account
again, so a new role applies at once and a removed, re-created or disabled
account is signed out. Workshop participants who joined by code and the public
view have no account and are left as they are.

A reload or a new tab starts a new Streamlit session; the signed-in state
survives it through a server-side session (``loaders.accounts``, only a keyed
hash of its token is stored) and an HttpOnly cookie holding the token
(``dashboard.sessions``: a run cannot set cookies, so it hands the browser a
one-time ticket that the app's own route exchanges for the cookie). A new
session without a user reads the cookie (``st.context.cookies``) and resumes the
stored session if it has not been idle for longer than ``ATLAS_SESSION_MINUTES``,
and, for an account, if the account still exists (the same one), is enabled and
has the role the session started with; a workshop participant's only while the
workshop is open, the public view's only while it is offered. The query
parameters (the view) are the page's own, so a reload shows the same view.
Signing out deletes the stored session (a copied cookie is then worthless) and
clears the cookie; the idle timeout, removing or disabling the account and a
new password end it too. Tabs of one browser share the session: signing out in
one ends it in the others at their next interaction.

Failed sign-ins and join codes are throttled per client address (see
``loaders.accounts``); the address is the one of the browser's connection
(``st.context.ip_address``). Behind a reverse proxy that is the proxy's, unless
the proxy sends ``X-Forwarded-For`` and the server trusts it (Streamlit's
uvicorn server trusts it from ``FORWARDED_ALLOW_IPS``, by default 127.0.0.1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import streamlit as st

from dashboard import sessions
from dashboard.i18n import t
from dashboard.safe import md
from geodata import privacy
from loaders.accounts import SESSION_TOUCH, AccountStore, Session, default_path, local_time
from loaders.audit import AuditLog

SESSION_KEY = "_user"
SEEN_KEY = "_seen_at"
ONCE_KEY = "_audited"
ACCOUNT_KEY = "_account"  # (stored name, created) of the account the session is bound to
ENDED_KEY = "_account_ended"  # the account was removed or disabled while signed in
ROLE_CHANGED_KEY = "_role_changed"
SESSION_ID_KEY = "_session_id"  # the stored server-side session (the keyed hash of the cookie's token)
TICKET_KEY = "_cookie_ticket"  # a ticket the browser has yet to exchange for its cookie
REVOKED_KEY = "_session_revoked"  # the stored session was ended elsewhere (signed out, new password)


class Throttled(Exception):
    """Too many failed attempts from this address: refused without checking, until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(f"throttled until {until.isoformat(timespec='seconds')}")
        self.until = until


@dataclass(frozen=True)
class User:
    name: str
    role: str
    via: str  # "password", "sso", "public" or "code" (workshop participant)
    workshop_id: str | None = None  # participants: the workshop they joined
    participant: str | None = None  # participants: an anonymous random token, no names

    @property
    def policy(self) -> privacy.Policy:
        policy = privacy.policy(self.role)
        if self.via == "code":  # anonymous participants: the workshop page only
            policy = replace(policy, pages=frozenset({"workshop"}))
        return policy


def _location() -> str:
    from loaders.store import DEFAULT_DB

    return os.environ.get("ATLAS_DB") or str(DEFAULT_DB)


@st.cache_resource(show_spinner=False)
def accounts(path: str) -> AccountStore:
    return AccountStore(path, audit=audit_log(path))


@st.cache_resource(show_spinner=False)
def audit_log(path: str) -> AuditLog:
    return AuditLog(path)


def accounts_path() -> str:
    return str(default_path(_location()))


def session_minutes() -> int:
    try:
        return max(1, int(os.environ.get("ATLAS_SESSION_MINUTES", "30")))
    except ValueError:
        return 30


def public_enabled() -> bool:
    return os.environ.get("ATLAS_PUBLIC", "").lower() in ("1", "true", "yes")


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def audit(action: str, target: str = "", detail: str = "", actor: str | None = None) -> None:
    user = st.session_state.get(SESSION_KEY)
    audit_log(accounts_path()).record(actor or (user.name if user else "-"), action, target, detail)


def audit_once(action: str, target: str, detail: str = "") -> None:
    """Record an action once per session and target (e.g. viewing a restricted layer)."""
    done = st.session_state.setdefault(ONCE_KEY, set())
    if (action, target) not in done:
        done.add((action, target))
        audit(action, target, detail)


def client_address() -> str | None:
    """The address of this session's browser connection, None when unknown (local use, tests)."""
    try:
        return st.context.ip_address
    except Exception:  # no server runtime (AppTest, bare execution)
        return None


def current_user() -> User | None:
    """The signed-in user of this session, or None (also after the idle timeout, and once its
    account has been removed or disabled). Called on every run: the role comes from the account.
    A new session without a user resumes the browser's stored session (its cookie), if valid."""
    user = st.session_state.get(SESSION_KEY)
    now = datetime.now(timezone.utc)
    if user is not None:
        sid = st.session_state.get(SESSION_ID_KEY)
        stored = accounts(accounts_path()).session(sid) if sid else None
        seen = st.session_state.get(SEEN_KEY, now)
        if stored is not None:  # another tab of the browser may have used the session since
            seen = max(seen, stored.last_seen)
        if now - seen > timedelta(minutes=session_minutes()):
            audit("session_timeout", user.name)
            _end_stored_session()
            _clear()
            st.session_state["_timed_out"] = True
            return None
        bound = st.session_state.get(ACCOUNT_KEY)
        if bound is not None:
            user = _recheck(user, bound)
            if user is None:
                return None
        if sid is not None and stored is None:
            # ended elsewhere: signed out in another tab, a new password, or a timeout there
            _clear()
            st.session_state[REVOKED_KEY] = True
            return None
        st.session_state[SEEN_KEY] = now
        if stored is not None and now - stored.last_seen >= SESSION_TOUCH:
            accounts(accounts_path()).touch_session(stored.id, now)
        return user
    resumed = _resume(now)
    if resumed is not None:
        return resumed
    if sso_configured() and getattr(st.user, "is_logged_in", False):
        email = str(getattr(st.user, "email", "") or "")
        account = accounts(accounts_path()).lookup(email) if email else None
        if account and not account["disabled"]:
            return _sign_in(User(email, account["role"], "sso"), account=account["name"])
    return None


def _recheck(user: User, bound: tuple[str, str]) -> User | None:
    """The session's user with the account's current role; None (signed out) if the account
    is gone, disabled, or was removed and created anew."""
    name, created = bound
    account = accounts(accounts_path()).lookup(name)
    reason = None
    if account is None or account["created"] != created:
        reason = "account removed"
    elif account["disabled"]:
        reason = "account disabled"
    if reason is not None:
        audit("session_ended", user.name, reason, actor=user.name)
        _end_stored_session()
        _clear()
        st.session_state[ENDED_KEY] = True
        return None
    if account["role"] != user.role:
        audit("session_role_changed", user.name, f"role={user.role} -> {account['role']}", actor=user.name)
        user = replace(user, role=account["role"])
        st.session_state[SESSION_KEY] = user
        st.session_state[ROLE_CHANGED_KEY] = True
        sid = st.session_state.get(SESSION_ID_KEY)
        if sid:  # a reload keeps the role the session has now
            accounts(accounts_path()).set_session_role(sid, user.role)
    return user


def _session_cookie() -> str | None:
    """The session token among the cookies the browser sent when this session connected."""
    try:
        return sessions.token_from(st.context.cookies)
    except Exception:  # no server runtime (AppTest, bare execution)
        return None


def _resume(now: datetime) -> User | None:
    """The user of the browser's stored session (its cookie), if it may go on; else None, and a
    stored session that may not is deleted (its cookie cleared)."""
    token = _session_cookie()
    if not token:
        return None
    store = accounts(accounts_path())
    stored = store.find_session(token)
    if stored is None:  # unknown or ended: the cookie is worthless
        return None
    if stored.idle(now) > timedelta(minutes=session_minutes()):
        store.end_session(stored.id)
        audit("session_timeout", stored.account, actor=stored.account)
        _issue_ticket(None)
        st.session_state["_timed_out"] = True
        return None
    reason = _refusal(stored)
    if reason is not None:
        store.end_session(stored.id)
        audit("session_ended", stored.account, reason, actor=stored.account)
        _issue_ticket(None)
        st.session_state[ENDED_KEY if reason in ("account removed", "account disabled") else REVOKED_KEY] = True
        return None
    user = User(stored.account, stored.role, stored.via, stored.workshop_id, stored.participant)
    st.session_state[SESSION_KEY] = user
    st.session_state[SEEN_KEY] = now
    st.session_state[SESSION_ID_KEY] = stored.id
    if stored.account_created is not None:
        st.session_state[ACCOUNT_KEY] = (stored.account, stored.account_created)
    for key in ("_timed_out", ENDED_KEY, ROLE_CHANGED_KEY, REVOKED_KEY):
        st.session_state.pop(key, None)
    audit("session_resume", user.name, f"role={user.role} via={user.via}", actor=user.name)
    if now - stored.last_seen >= SESSION_TOUCH:
        store.touch_session(stored.id, now)
    return user


def _refusal(stored: Session) -> str | None:
    """Why a stored session may not be resumed, or None."""
    if stored.account_created is not None:
        account = accounts(accounts_path()).lookup(stored.account)
        if account is None or account["created"] != stored.account_created:
            return "account removed"
        if account["disabled"]:
            return "account disabled"
        if account["role"] != stored.role:
            return f"role changed: {stored.role} -> {account['role']}"
        return None
    if stored.via == "code":
        from loaders.workshops import WorkshopStore, default_path as workshops_path

        workshop = WorkshopStore(workshops_path(_location())).workshop(stored.workshop_id or "")
        return None if workshop is not None and int(workshop.get("open") or 0) == 1 else "workshop closed"
    if stored.via == "public":
        return None if public_enabled() else "public view not offered"
    return "not resumable"


def _issue_ticket(token: str | None) -> None:
    """Let the browser set its session cookie to ``token`` (None: clear it) at the next chance."""
    sessions.withdraw(st.session_state.get(TICKET_KEY))
    st.session_state[TICKET_KEY] = sessions.issue(token)


def deliver_ticket(container=None) -> None:
    """Put the script that exchanges this session's open ticket for the cookie into the page;
    once the ticket has been used (or has expired) it is left out."""
    ticket = st.session_state.get(TICKET_KEY)
    if ticket is None:
        return
    if not sessions.pending(ticket):
        st.session_state.pop(TICKET_KEY, None)
        return
    (container or st).html(sessions.script(ticket), unsafe_allow_javascript=True)


def _end_stored_session() -> None:
    """Delete this session's stored session and clear the browser's cookie."""
    sid = st.session_state.get(SESSION_ID_KEY)
    if sid:
        accounts(accounts_path()).end_session(sid)
        _issue_ticket(None)


def _sign_in(user: User, account: str | None = None) -> User | None:
    """Start the session of ``user``; with ``account``, bound to that account (its current role)."""
    binding = None
    if account is not None:
        row = accounts(accounts_path()).lookup(account)
        if row is None or row["disabled"]:
            return None  # removed or disabled between the check and now
        binding = (row["name"], row["created"])
        user = replace(user, role=row["role"])
    opened = accounts(accounts_path()).open_session(
        binding[0] if binding else user.name, user.role, user.via,
        account_created=binding[1] if binding else None, workshop_id=user.workshop_id,
        participant=user.participant, client=client_address(), idle=timedelta(minutes=session_minutes()),
    )
    if opened is None:
        return None  # removed or disabled between the check and now
    token, stored = opened
    _issue_ticket(token)
    st.session_state[SESSION_ID_KEY] = stored.id
    st.session_state[SESSION_KEY] = user
    st.session_state[SEEN_KEY] = datetime.now(timezone.utc)
    if binding is not None:
        st.session_state[ACCOUNT_KEY] = binding
    for key in ("_timed_out", ENDED_KEY, ROLE_CHANGED_KEY, REVOKED_KEY):
        st.session_state.pop(key, None)
    audit("login", user.name, f"role={user.role} via={user.via}", actor=user.name)
    return user


def _clear() -> None:
    for key in (SESSION_KEY, SEEN_KEY, ONCE_KEY, ACCOUNT_KEY, ROLE_CHANGED_KEY, SESSION_ID_KEY):
        st.session_state.pop(key, None)


def logout() -> None:
    """Sign out: the stored session is deleted (a copy of the cookie is worthless from now on),
    and the browser's cookie is cleared."""
    user = st.session_state.get(SESSION_KEY)
    if user is not None:
        audit("logout", user.name)
    via_sso = user is not None and user.via == "sso"
    _end_stored_session()
    _clear()
    if via_sso:
        st.logout()


def join_workshop(code: str, client: str | None = None) -> User | None:
    """Sign in as an anonymous participant of the open workshop with this code.

    Wrong codes are throttled per client address; while an address is locked even
    the right code raises ``Throttled``."""
    import secrets

    from loaders.workshops import WorkshopStore, default_path as workshops_path

    workshops = WorkshopStore(workshops_path(_location()))
    result = accounts(accounts_path()).check_code(code, workshops.by_code, client=client)
    if result.value is None:
        if result.locked_until is not None:
            raise Throttled(result.locked_until)
        return None
    token = secrets.token_hex(8)
    return _sign_in(User(f"teilnahme-{token[:6]}", "workshop", "code", result.value["id"], token))


def login_page(lang: str) -> None:
    """The only thing served without a signed-in user."""
    st.title(t("app_title", lang))
    if st.session_state.get("_timed_out"):
        st.info(t("session_timed_out", lang))
    if st.session_state.get(ENDED_KEY):
        st.info(t("session_ended", lang))
    if st.session_state.get(REVOKED_KEY):
        st.info(t("session_revoked", lang))
    code = st.query_params.get("join")
    with st.form("join", clear_on_submit=False):
        st.markdown(f"**{t('join_title', lang)}**")
        entered = st.text_input(t("join_code", lang), value=code or "", max_chars=6, key="join_code")
        joined = st.form_submit_button(t("join_submit", lang))
    if joined:
        try:
            participant = join_workshop(entered, client_address())
        except Throttled as exc:
            st.error(t("join_throttled", lang).format(time=local_time(exc.until)))
        else:
            if participant:
                st.query_params.pop("join", None)
                st.rerun()
            st.error(t("join_unknown", lang))
    with st.form("login", clear_on_submit=False):
        name = st.text_input(t("login_name", lang), key="login_name")
        password = st.text_input(t("login_password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_submit", lang), type="primary")
    if submitted:
        # failed attempts and locks are recorded by the store, without names that are no account
        result = accounts(accounts_path()).authenticate(name.strip(), password, client=client_address())
        if result.ok and _sign_in(User(result.name or name.strip(), result.role, "password"), account=result.name):
            st.rerun()
        if result.locked_until is not None:
            st.error(t("login_locked", lang).format(time=local_time(result.locked_until)))
        else:
            st.error(t("login_failed", lang))
    if sso_configured():
        if st.button(t("login_sso", lang)):
            st.login()
        if getattr(st.user, "is_logged_in", False):
            st.warning(t("sso_unknown", lang))
    if public_enabled() and st.button(t("login_public", lang)):
        _sign_in(User("public", "public", "public"))
        st.rerun()
    deliver_ticket()  # clears the cookie of a session that has ended


def sidebar_account(user: User, lang: str) -> None:
    if st.session_state.pop(ROLE_CHANGED_KEY, None):
        st.toast(t("role_changed", lang).format(role=t("role_" + user.role, lang)))
    st.sidebar.caption(f"{t('signed_in_as', lang)} **{md(user.name)}** · {t('role_' + user.role, lang)}")
    if st.sidebar.button(t("logout", lang), key="logout"):
        logout()
        st.rerun()
    deliver_ticket(st.sidebar)  # sets the cookie of a session just signed in
