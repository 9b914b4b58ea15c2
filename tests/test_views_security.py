"""Saved views, the workshop page and "Daten & Quellen" give each role only what it may see.

AppTest runs the real pages; ``delivered`` collects everything a page sends to
the browser (every element's message, tables as text, query parameters), and
the tests look in it for planted secrets: a council view's name and its centre
on a meeting point, join codes, hidden and other workshops' entries, and the
meeting points' import file name. A real-browser probe at the end collects
the websocket frames a lower role receives.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.apprunner import WAIT_MS
from google.protobuf import text_format

from dashboard.auth import SESSION_KEY, User
from loaders.store import GeoPackageStore, Provenance
from loaders.workshops import WorkshopStore
from tests.conftest import APP, demo_store

SECRET_VIEW = "GEHEIM-RATSANSICHT"
PRIVATE_VIEW = "PRIVAT-RAT-ANSICHT"
LEAK_NAME = "![](http://127.0.0.1:9/leak-viewname)"
SECRET_FILE = "treffpunkte-GEHEIM-2026.csv"

COUNCIL_A = User("rat-anna", "council", "password")
COUNCIL_B = User("rat-ben", "council", "password")
ADMIN = User("chefin", "admin", "password")
WS_ACCOUNT = User("ws-konto", "workshop", "password")
PUBLIC = User("public", "public", "public")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = demo_store(tmp_path_factory, seed=11, n_incidents=1500)
    store = GeoPackageStore(path)
    # the meeting points come from an import whose file name must stay with those who see the layer
    store.write({"meeting_points": store.read("meeting_points")}, Provenance(f"Import {SECRET_FILE}", "intern"))
    return path


@pytest.fixture
def ws(tmp_path, monkeypatch) -> WorkshopStore:
    """A fresh workshop store (saved views, workshops) for each test."""
    path = tmp_path / "atlas-workshops.gpkg"
    monkeypatch.setenv("ATLAS_WORKSHOPS", str(path))
    return WorkshopStore(path)


@pytest.fixture(scope="module")
def meeting_at(demo_db) -> tuple[str, str]:
    """A meeting point's latitude and longitude as a saved view writes them (five decimals)."""
    point = GeoPackageStore(demo_db).read("meeting_points").geometry.iloc[0]
    return f"{point.y:.5f}", f"{point.x:.5f}"


def run_as(db, monkeypatch, user: User, page: str | None = None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ATLAS_DB", str(db))
    monkeypatch.setenv("ATLAS_BASEMAP", "none")
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[SESSION_KEY] = user
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def delivered(at) -> str:
    """Everything the page sends to the browser, as text."""
    parts: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts += [d.value.to_string() for d in at.dataframe]
    parts += [f"{k}={at.query_params[k]}" for k in at.query_params]
    return "\n".join(parts)


def has_coordinate(text: str, value: str) -> bool:
    """The exact five-decimal coordinate, not a longer number that starts the same."""
    return re.search(r"(?<![\d.])" + re.escape(value) + r"(?!\d)", text) is not None


def plant(ws, *rows) -> None:
    """Store saved views as rows (name, params, owner, owner's role, shared with), as ``save_view`` does."""
    frame = pd.DataFrame(
        [{"name": n, "params": p, "created_by": o, "created_at": pd.Timestamp.now(tz="UTC"), "owner_role": r, "shared_with": w}
         for n, p, o, r, w in rows]
    )
    ws.store.write({"saved_views": pd.concat([ws.views(), frame], ignore_index=True) if len(ws.views()) else frame},
                   Provenance("test", "intern"), mode="replace")


def plant_council_views(ws, meeting_at):
    lat, lon = meeting_at
    plant(
        ws,
        (SECRET_VIEW, f"z=16&c={lat},{lon}&layers=districts,meeting", COUNCIL_A.name, "council", "council"),
        (PRIVATE_VIEW, "h=20-4", COUNCIL_A.name, "council", None),
    )


# -- saved views -------------------------------------------------------------------------

@pytest.mark.parametrize("user", [WS_ACCOUNT, PUBLIC, User("public-konto", "public", "password")], ids=["workshop", "public", "public-account"])
def test_lower_roles_receive_no_other_views(demo_db, monkeypatch, ws, meeting_at, user):
    plant_council_views(ws, meeting_at)
    at = run_as(demo_db, monkeypatch, user)
    content = delivered(at)
    assert SECRET_VIEW not in content and PRIVATE_VIEW not in content
    assert not has_coordinate(content, meeting_at[0]) and not has_coordinate(content, meeting_at[1])
    may_save = user.role == "workshop"
    assert any(b.key == "view_save" for b in at.sidebar.button) == may_save
    assert not any(c.key == "view_share" for c in at.sidebar.checkbox)  # workshop accounts keep their views


def test_council_sees_own_and_shared_views_only(demo_db, monkeypatch, ws, meeting_at):
    plant_council_views(ws, meeting_at)
    for user, private in ((COUNCIL_A, True), (COUNCIL_B, False), (ADMIN, False)):
        content = delivered(run_as(demo_db, monkeypatch, user))
        assert SECRET_VIEW in content and has_coordinate(content, meeting_at[0]), user
        assert (PRIVATE_VIEW in content) == private, user


def test_saving_touches_only_the_owners_view(demo_db, monkeypatch, ws, meeting_at):
    plant_council_views(ws, meeting_at)
    before = ws.views()
    at = run_as(demo_db, monkeypatch, WS_ACCOUNT)
    at.sidebar.text_input(key="view_name").set_value(SECRET_VIEW)
    at.sidebar.button(key="view_save").click().run()
    assert not at.exception
    at = run_as(demo_db, monkeypatch, COUNCIL_B)
    at.sidebar.text_input(key="view_name").set_value(SECRET_VIEW)
    at.sidebar.button(key="view_save").click().run()
    assert not at.exception
    rows = ws.views()
    assert len(rows) == len(before) + 2
    anna = rows[(rows["name"] == SECRET_VIEW) & (rows["created_by"] == COUNCIL_A.name)].iloc[0]
    assert anna["params"] == before.set_index(["created_by", "name"]).loc[(COUNCIL_A.name, SECRET_VIEW), "params"]
    assert anna["shared_with"] == "council"
    mine = rows[rows["created_by"] == WS_ACCOUNT.name].iloc[0]
    assert mine["owner_role"] == "workshop" and mine["shared_with"] is None
    assert "meeting" not in mine["params"]  # saved with what its owner may see


def test_an_owner_deletes_only_their_own_view(demo_db, monkeypatch, ws):
    plant(ws, ("Gemeinsam", "h=1-2", COUNCIL_A.name, "council", "council"), ("Gemeinsam", "h=3-4", COUNCIL_B.name, "council", None))
    at = run_as(demo_db, monkeypatch, COUNCIL_B)
    assert not any((b.key or "").startswith("delete_view_") and b.key != "delete_view_Gemeinsam" for b in at.sidebar.button)
    at.sidebar.button(key="delete_view_Gemeinsam").click().run()
    assert not at.exception
    assert ws.views()[["name", "created_by"]].values.tolist() == [["Gemeinsam", COUNCIL_A.name]]


def test_participants_cannot_save_views(demo_db, monkeypatch, ws):
    workshop = ws.create_workshop("Sonnenberg", "2025-06-02", [], COUNCIL_A.name)
    participant = User("teilnahme-abc123", "workshop", "code", workshop["id"], "token-1")
    at = run_as(demo_db, monkeypatch, participant)  # the workshop page is their only page
    assert not any(b.key == "view_save" for b in at.button) and not any(i.key == "view_name" for i in at.text_input)
    assert ws.views().empty


def test_council_shares_and_a_colleague_opens(demo_db, monkeypatch, ws):
    at = run_as(demo_db, monkeypatch, COUNCIL_A)
    at.sidebar.selectbox(key="f_h_from").set_value(20)
    at.sidebar.selectbox(key="f_h_to").set_value(4).run()
    at.sidebar.text_input(key="view_name").set_value("Nachts")
    at.sidebar.checkbox(key="view_share").check()
    at.sidebar.button(key="view_save").click().run()
    assert not at.exception
    assert ws.views().iloc[0]["shared_with"] == "council"
    at = run_as(demo_db, monkeypatch, COUNCIL_B)
    assert any("geteilt von rat\\-anna" in c.value for c in at.sidebar.caption)
    assert at.sidebar.selectbox(key="f_h_from").value == 0
    next(b for b in at.sidebar.button if (b.key or "").startswith("open_shared_view_")).click().run()
    assert not at.exception
    assert at.sidebar.selectbox(key="f_h_from").value == 20 and at.query_params["h"] == "20-4"


def test_opening_applies_the_openers_policy(demo_db, monkeypatch, ws, meeting_at):
    lat, lon = meeting_at
    params = f"z=16&c={lat},{lon}&layers=districts,meeting,incidents&h=20-4"
    plant(
        ws,
        ("VIEW-DAMALS", params, "wechsel", "council", None),  # saved on the council; the account is now a workshop account
        ("VIEW-ALT-OHNE-ROLLE", params, "wechsel", None, None),  # stored before owners' roles were kept
    )
    at = run_as(demo_db, monkeypatch, User("wechsel", "workshop", "password"))
    content = delivered(at)
    assert "VIEW-DAMALS" in content and "VIEW-ALT-OHNE-ROLLE" in content
    assert not has_coordinate(content, lat) and not has_coordinate(content, lon)
    assert "meeting" not in "".join(c.value for c in at.sidebar.code)
    at.sidebar.button(key="open_view_VIEW-DAMALS").click().run()
    assert not at.exception
    params = {k: at.query_params[k] for k in at.query_params}
    assert "c" not in params and "z" not in params
    assert params["h"] == "20-4" and params["layers"] == "districts,incidents"
    assert at.sidebar.selectbox(key="f_h_from").value == 20


def test_view_names_are_plain_text(demo_db, monkeypatch, ws):
    plant(
        ws,
        (LEAK_NAME, "h=20-4", COUNCIL_A.name, "council", "council"),
        ("**fett** <img src=x onerror=alert(1)>", "h=1-2", COUNCIL_A.name, "council", "council"),
    )
    for user in (COUNCIL_A, COUNCIL_B):
        at = run_as(demo_db, monkeypatch, user)
        texts = [x.value for x in at.sidebar.text]
        assert LEAK_NAME in texts and "**fett** <img src=x onerror=alert(1)>" in texts  # shown as typed
        markdown = [m.value for m in (*at.markdown, *at.caption)]
        helps = [b.help or "" for b in at.button] + [getattr(w, "help", "") or "" for w in (*at.checkbox, *at.text_input)]
        for rendered in (*markdown, *helps):
            assert "](http" not in rendered and "127.0.0.1:9" not in rendered and "<img" not in rendered, rendered


# -- workshop page -------------------------------------------------------------------------

@pytest.fixture
def two_workshops(ws):
    a = ws.create_workshop("Sonnenberg bei Nacht", "2025-06-02", [], COUNCIL_A.name)
    b = ws.create_workshop("Kaßberg", "2025-06-03", [], COUNCIL_A.name)
    args = dict(lon=12.9441, lat=50.8379, feeling="unsafe", reasons=["poor_lighting"], time_of_day="night")
    ws.add_observation(a["id"], "p-1", comment="SICHTBAR-IN-A", **args)
    hidden = ws.add_observation(a["id"], "p-2", comment="VERSTECKT-IN-A", **args)
    ws.set_hidden(hidden["id"], True)
    ws.add_observation(b["id"], "p-3", comment="KOMMENTAR-IN-B", **args)
    ws.add_observation(a["id"], "p-4", comment='=HYPERLINK("http://x","klick")', **args)
    return a, b


def test_a_workshop_account_gets_no_facilitator_page(demo_db, monkeypatch, two_workshops):
    a, b = two_workshops
    at = run_as(demo_db, monkeypatch, WS_ACCOUNT, "workshop")
    content = delivered(at)
    for secret in (a["code"], b["code"], "SICHTBAR-IN-A", "VERSTECKT-IN-A", "KOMMENTAR-IN-B", "HYPERLINK", a["id"], b["id"]):
        assert secret not in content, secret
    assert not at.toggle and not at.get("download_button") and not at.dataframe and not at.text_input
    assert not any(b.key in ("ws_hide", "ws_restore") for b in at.button)
    assert any("Präventionsrat" in i.value for i in at.info)
    # the facilitator's page on the same store does show them
    council = facilitator_page(demo_db, monkeypatch, COUNCIL_A, a, b)
    content = delivered(council)
    assert a["code"] in content and b["code"] in content and "VERSTECKT-IN-A" in content and council.toggle


def test_participants_stay_in_their_workshop(demo_db, monkeypatch, two_workshops):
    a, b = two_workshops
    at = run_as(demo_db, monkeypatch, User("teilnahme-abc123", "workshop", "code", a["id"], "p-9"))
    content = delivered(at)
    assert "SICHTBAR-IN-A" in content  # the entries of their own workshop, on the map
    for secret in (a["code"], b["code"], "VERSTECKT-IN-A", "KOMMENTAR-IN-B", "Kaßberg"):
        assert secret not in content, secret
    assert not at.toggle and not at.get("download_button") and not at.dataframe


def facilitator_page(db, monkeypatch, user, *workshops):
    at = run_as(db, monkeypatch, user, "workshop")
    at.multiselect(key="ws_selected").set_value([w["id"] for w in workshops]).run()
    assert not at.exception
    return at


def test_workshop_tables_defuse_formulas(demo_db, monkeypatch, two_workshops):
    at = facilitator_page(demo_db, monkeypatch, COUNCIL_A, *two_workshops)
    assert len(at.dataframe) == 3  # moderation, comparison, felt insecurity against records
    comments = at.dataframe[0].value["Kommentar (freiwillig, ohne Namen)"].tolist()
    assert "'=HYPERLINK(\"http://x\",\"klick\")" in comments  # the table's own CSV download runs no formula
    for table in at.dataframe:
        frame = table.value
        for column in frame.columns:
            assert not str(column).startswith(("=", "+", "-", "@"))
            texts = [v for v in frame[column] if isinstance(v, str)]
            assert not [v for v in texts if v.startswith(("=", "+", "@", "\t", "\r")) or (v.startswith("-") and not _number(v))], column


def _number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
        return True
    except ValueError:
        return False


# -- Daten & Quellen -------------------------------------------------------------------------

@pytest.mark.parametrize("user, sees", [(ADMIN, True), (COUNCIL_A, True), (WS_ACCOUNT, False), (PUBLIC, False)], ids=["admin", "council", "workshop", "public"])
def test_sources_page_names_restricted_layers_only_to_who_sees_them(demo_db, monkeypatch, ws, user, sees):
    at = run_as(demo_db, monkeypatch, user, "info")
    content = delivered(at)
    layers = set(at.dataframe[0].value["Ebene"])
    assert (SECRET_FILE in content) == sees
    assert ("Treffpunkte" in layers) == sees
    assert "Stadtteile" in layers
    assert ("Vorfälle" in layers) == (user.role != "public")


# -- in the real browser ---------------------------------------------------------------------
# What a lower role's browser receives (the page, every iframe and every websocket frame) is
# searched for the council's secret view name and centre, the leaking name's address, the join
# code, workshop comments and the meeting points' import file name.

@pytest.fixture(scope="module")
def browser_app(tmp_path_factory):
    from loaders import demo
    from loaders.accounts import AccountStore, default_path as accounts_path
    from loaders.workshops import default_path as workshops_path
    from tests.apprunner import PASSWORD, create_accounts, running_app

    db = tmp_path_factory.mktemp("views") / "atlas.gpkg"
    frames = demo.generate(seed=12, n_incidents=1500)
    meeting = frames.pop("meeting_points")
    store = GeoPackageStore(db)
    store.write(frames, Provenance("test data", "CC0", demo=True))
    store.write({"meeting_points": meeting}, Provenance(f"Import {SECRET_FILE}", "intern", demo=True))
    point = store.read("meeting_points").geometry.iloc[0]
    lat, lon = f"{point.y:.5f}", f"{point.x:.5f}"
    names = create_accounts(db)
    AccountStore(accounts_path(str(db))).add("rat-zwei", "council", PASSWORD, actor="test")
    names["council2"] = "rat-zwei"
    ws = WorkshopStore(workshops_path(str(db)))
    plant(
        ws,
        (SECRET_VIEW, f"z=16&c={lat},{lon}&layers=districts,meeting", names["council"], "council", "council"),
        (LEAK_NAME, "h=20-4", names["council"], "council", "council"),
    )
    workshop = ws.create_workshop("Probe-Workshop", "2025-06-02", [], names["council"])
    ws.add_observation(workshop["id"], "p-1", 12.9441, 50.8379, "unsafe", ["poor_lighting"], "night", "KOMMENTAR-IM-WORKSHOP")
    with running_app(db) as url:
        yield url, names, (lat, lon), workshop


class Received:
    """Everything the browser receives, and every request it makes."""

    def __init__(self, page):
        self.frames: list[bytes] = []
        self.requests: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on("request", lambda r: self.requests.append(r.url))

    def _frame(self, payload):
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def content(self, page) -> bytes:
        parts = [page.content().encode()] + [f.content().encode() for f in page.frames if f != page.main_frame]
        return b"\n".join(parts + self.frames)


def _coordinate_hits(content: bytes, value: str) -> list[bytes]:
    return [content[max(0, m.start() - 80):m.start() + 40]
            for m in re.finditer(rb"(?<![\d.])" + re.escape(value.encode()) + rb"(?!\d)", content)]


@pytest.mark.e2e
@pytest.mark.parametrize("role", ["workshop", "public"])
def test_lower_roles_receive_no_saved_view_code_or_provenance_in_the_browser(browser_app, role):
    from tests.apprunner import chromium, districts_drawn, login, map_frame, open_page

    url, names, (lat, lon), workshop = browser_app
    secrets = (SECRET_VIEW, "leak-viewname", SECRET_FILE, workshop["code"], "KOMMENTAR-IM-WORKSHOP", "Probe-Workshop")

    def check(content: bytes, where: str) -> None:
        for secret in secrets:
            assert secret.encode() not in content, (role, where, secret)
        for value in (lat, lon):
            assert _coordinate_hits(content, value) == [], (role, where, value)
        assert not [r for r in got.requests if "127.0.0.1:9/" in r]

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        got = Received(page)
        login(page, url, names[role])
        districts_drawn(map_frame(page))  # the map comes after the sidebar's saved views in the page
        check(got.content(page), "map")
        # a workshop account may save views of its own; the public view may not
        assert (page.get_by_text("Gespeicherte Ansichten").count() > 0) == (role == "workshop")
        if role == "workshop":
            open_page(page, "Workshop")
            page.get_by_text("Zum Mitmachen öffnen Sie").first.wait_for(timeout=WAIT_MS)
            check(got.content(page), "workshop page")
        open_page(page, "Daten & Quellen")
        page.get_by_text("Kriminalitätsatlas 2025").first.wait_for(timeout=WAIT_MS)  # below the sources table
        check(got.content(page), "sources page")


@pytest.mark.e2e
def test_a_colleague_receives_the_shared_view_with_its_name_as_text(browser_app):
    from tests.apprunner import chromium, districts_drawn, login, map_frame, retry_until, wait_until

    url, names, (lat, lon), _ = browser_app
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        got = Received(page)
        login(page, url, names["council2"])
        districts_drawn(map_frame(page))
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("Gespeicherte Ansichten").first.click()
        sidebar.get_by_text(LEAK_NAME, exact=True).first.wait_for(timeout=WAIT_MS)  # shown as typed, not as an image
        sidebar.get_by_text(SECRET_VIEW, exact=True).first.wait_for(timeout=WAIT_MS)
        opener = sidebar.get_by_role("button", name="↗").first
        tooltip = page.get_by_text("Ansicht öffnen")

        def hover():  # a hover during a redraw of the sidebar shows no tooltip: hover again
            opener.scroll_into_view_if_needed()
            page.mouse.move(0, 0)
            opener.hover()

        retry_until(page, hover, lambda: tooltip.count() > 0 and tooltip.first.is_visible(), "the button's tooltip", attempt_s=5)
        assert page.locator('img[src*="leak-viewname"]').count() == 0
        assert not [r for r in got.requests if "127.0.0.1:9/" in r]
        # the council may receive the shared view's centre; opening it takes the map there
        assert f"c={lat}" in sidebar.inner_text()
        sidebar.get_by_role("button", name="↗").nth(1).click()
        wait_until(lambda: f"c={lat}%2C{lon}" in page.evaluate("location.search"), what="the view's address")
