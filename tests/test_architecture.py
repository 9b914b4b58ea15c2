"""Imports go one way: dashboard -> geodata, loaders; only dashboard/ uses streamlit."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: set[str]) -> list[str]:
    return [f"{f} imports {sorted(n & forbidden)}" for f, n in imported_modules(package).items() if n & forbidden]


def test_streamlit_only_in_dashboard():
    assert offenders("geodata", {"streamlit", "streamlit_folium"}) == []
    assert offenders("loaders", {"streamlit", "streamlit_folium"}) == []


def test_layers_import_one_way():
    # geodata's command line (geodata/__main__.py) reads the store; the analysis modules never do
    assert [o for o in offenders("geodata", {"loaders", "dashboard"}) if not o.startswith("geodata/__main__.py")] == []
    assert offenders("geodata", {"dashboard"}) == []
    assert offenders("loaders", {"dashboard"}) == []


def test_checker_sees_a_streamlit_import(tmp_path, monkeypatch):
    pkg = tmp_path / "geodata"
    pkg.mkdir()
    (pkg / "bad.py").write_text("import os\nfrom streamlit import cache_data\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert offenders("geodata", {"streamlit"}) == ["geodata/bad.py imports ['streamlit']"]


def test_analysis_and_loaders_run_without_streamlit():
    """Importing every geodata/loaders module must not pull streamlit in, not even indirectly."""
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for pkg in ("geodata", "loaders")
        for p in (ROOT / pkg).rglob("*.py")
        if p.name != "__main__.py"
    ]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
