"""Sign-in, sessions and the audit trail of the dashboard.

Without a signed-in user the app serves nothing but the sign-in form. Roles
come from the account store next to the data (``python -m dashboard.users``);
single sign-on through Streamlit's OIDC login (``st.login``) is used when it is
configured in ``.streamlit/secrets.toml`` (the account store then maps the
e-mail address to a role). Sessions end after ``ATLAS_SESSION_MINUTES`` (30)
without activity.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import streamlit as st

from dashboard.i18n import t
from dashboard.safe import md
from geodata import privacy
from loaders.accounts import AccountStore, default_path
from loaders.audit import AuditLog

SESSION_KEY = "_user"
SEEN_KEY = "_seen_at"
ONCE_KEY = "_audited"


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
            from dataclasses import replace

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


def current_user() -> User | None:
    """The signed-in user of this session, or None (also after the idle timeout)."""
    user = st.session_state.get(SESSION_KEY)
    now = datetime.now(timezone.utc)
    if user is not None:
        seen = st.session_state.get(SEEN_KEY, now)
        if now - seen > timedelta(minutes=session_minutes()):
            audit("session_timeout", user.name)
            _clear()
            st.session_state["_timed_out"] = True
            return None
        st.session_state[SEEN_KEY] = now
        return user
    if sso_configured() and getattr(st.user, "is_logged_in", False):
        email = str(getattr(st.user, "email", "") or "")
        account = accounts(accounts_path()).get(email) if email else None
        if account:
            return _sign_in(User(email, account["role"], "sso"))
    return None


def _sign_in(user: User) -> User:
    st.session_state[SESSION_KEY] = user
    st.session_state[SEEN_KEY] = datetime.now(timezone.utc)
    st.session_state.pop("_timed_out", None)
    audit("login", user.name, f"role={user.role} via={user.via}", actor=user.name)
    return user


def _clear() -> None:
    for key in (SESSION_KEY, SEEN_KEY, ONCE_KEY):
        st.session_state.pop(key, None)


def logout() -> None:
    user = st.session_state.get(SESSION_KEY)
    if user is not None:
        audit("logout", user.name)
    via_sso = user is not None and user.via == "sso"
    _clear()
    if via_sso:
        st.logout()


def join_workshop(code: str) -> User | None:
    """Sign in as an anonymous participant of the open workshop with this code."""
    import secrets

    from loaders.workshops import WorkshopStore, default_path as workshops_path

    workshop = WorkshopStore(workshops_path(_location())).by_code(code)
    if workshop is None:
        return None
    token = secrets.token_hex(8)
    return _sign_in(User(f"teilnahme-{token[:6]}", "workshop", "code", workshop["id"], token))


def login_page(lang: str) -> None:
    """The only thing served without a signed-in user."""
    st.title(t("app_title", lang))
    if st.session_state.get("_timed_out"):
        st.info(t("session_timed_out", lang))
    code = st.query_params.get("join")
    with st.form("join", clear_on_submit=False):
        st.markdown(f"**{t('join_title', lang)}**")
        entered = st.text_input(t("join_code", lang), value=code or "", max_chars=6, key="join_code")
        joined = st.form_submit_button(t("join_submit", lang))
    if joined:
        if join_workshop(entered):
            st.query_params.pop("join", None)
            st.rerun()
        audit("join_failed", entered.strip()[:12], actor="-")
        st.error(t("join_unknown", lang))
    with st.form("login", clear_on_submit=False):
        name = st.text_input(t("login_name", lang), key="login_name")
        password = st.text_input(t("login_password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_submit", lang), type="primary")
    if submitted:
        result = accounts(accounts_path()).authenticate(name.strip(), password, actor=name.strip()[:64] or "-")
        if result.ok:
            _sign_in(User(result.name or name.strip(), result.role, "password"))
            st.rerun()
        audit("login_failed", name.strip()[:64], result.message, actor=name.strip()[:64] or "-")
        st.error(result.message)
    if sso_configured():
        if st.button(t("login_sso", lang)):
            st.login()
        if getattr(st.user, "is_logged_in", False):
            st.warning(t("sso_unknown", lang))
    if public_enabled() and st.button(t("login_public", lang)):
        _sign_in(User("public", "public", "public"))
        st.rerun()


def sidebar_account(user: User, lang: str) -> None:
    st.sidebar.caption(f"{t('signed_in_as', lang)} **{md(user.name)}** · {t('role_' + user.role, lang)}")
    if st.sidebar.button(t("logout", lang), key="logout"):
        logout()
        st.rerun()
