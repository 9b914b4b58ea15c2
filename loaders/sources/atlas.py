"""Polizei Sachsen, Kriminalitätsatlas (PKS atlas, edition "Großstädte"): cases per district and year.

The atlas is published as a PDF (``ATLAS_URL``); a CSV form of the same table is
read as well. ``fetch_crime_stats`` tells them apart by content (``%PDF-``).

PDF
    ``pypdf``'s ``extract_text()`` gives one line per district::

        01 Zentrum 5.204 [further columns …] 32.339 2 73 903 1.275 394 1.085 1.022 450

    i.e. the two-digit district code, the name (may contain spaces, hyphens and
    umlauts), the total number of cases, possibly further columns, and as the
    LAST nine numbers: the Häufigkeitszahl (cases per 100,000 inhabitants) and
    the cases of the eight offence groups in the order of ``GROUPS``. Numbers use
    '.' as thousands separator and ',' as decimal separator; '-' or '–' means 0.
    Title, header, city-total ("Stadt Chemnitz insgesamt") and footnote lines are
    ignored. The eight groups are the PKS main groups and must add up to the
    total; a line where they do not is reported as misread.

    All pages are searched. The Großstädte edition also holds the tables of
    Dresden and Leipzig, whose district codes are two-digit as well, so the page
    whose rows match the most known Chemnitz districts (code and name, from
    ``loaders/data/chemnitz_districts.csv``) wins, then the page with the most
    district rows, then the earlier page.

CSV
    Separator ';' or ',' (or tab), UTF-8 (with or without BOM) or Windows-1252.
    Title lines above the header row, a city-total row and footnote rows are
    skipped. Numbers may be German ("5.204", "32.339,5", "-" for 0) or plain
    ("5204", "32339.5"). Headers are matched case-insensitively, ignoring
    umlaut spelling (ä/ae), punctuation, footnote markers ("HZ 1)", "HZ¹") and
    parenthesised remarks ("Straftaten insgesamt (Fälle)"). Accepted headers:

    ========================  ==============================================================
    column                    accepted headers
    ========================  ==============================================================
    code                      code, Nr, Nr., Nummer, Schlüssel, Stadtteilschlüssel,
                              Stadtteilnummer, Stadtteil-Nr, Stadtteilnr, STT-Nr, Kennziffer
    name (optional)           name, Stadtteil, Stadtteilname, Bezeichnung
    crime_total_cases         crime_total_cases, Straftaten insgesamt, Straftaten,
                              Fälle, Fälle insgesamt, erfasste Fälle, Gesamt, insgesamt
    crime_total_rate          crime_total_rate, HZ, HZ insgesamt, Häufigkeitszahl
    homicide_cases            homicide_cases, Straftaten gegen das Leben
    sexual_cases              sexual_cases, Sexualdelikte,
                              Straftaten gegen die sexuelle Selbstbestimmung
    violence_proxy_cases      violence_proxy_cases, Rohheitsdelikte,
                              Rohheitsdelikte und Straftaten gegen die persönliche Freiheit
    simple_theft_cases        simple_theft_cases, einfacher Diebstahl,
                              Diebstahl ohne erschwerende Umstände
    aggravated_theft_cases    aggravated_theft_cases, schwerer Diebstahl,
                              Diebstahl unter erschwerenden Umständen
    fraud_cases               fraud_cases, Vermögens- und Fälschungsdelikte
    other_stgb_cases          other_stgb_cases, sonstige Straftaten StGB,
                              sonstige Straftatbestände StGB
    secondary_law_cases       secondary_law_cases, Nebenstrafrecht,
                              strafrechtliche Nebengesetze
    year (optional)           year, Jahr, Berichtsjahr (must equal the requested year)
    ========================  ==============================================================

    Other columns (e.g. lon, lat, area_km2, population_est, property_total_cases,
    edition of the bundled CSV) are ignored; derived columns are recomputed.

Output (one row per district, sorted by code): code, year, edition,
crime_total_cases, crime_total_rate, population_est, and the ``*_cases`` columns
of ``GROUPS`` plus property_total_cases (= simple + aggravated theft).
population_est is not printed in the atlas: it is round(cases / rate × 100,000),
missing (<NA>) where the rate is 0 or absent. A rate printed as '-' for a
district with cases is read as "not computed" (NaN), not as 0.

Several years side by side: ``fetch_crime_stats`` returns one year only and does
not touch the store; ``merge_years`` combines it with the stored layer (it is the
source's ``merge`` hook, so ``loaders.sources.run`` keeps the other years).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

import pandas as pd

from loaders.http import Progress, SourceFormatError, get_bytes
from loaders.sources import Source

ATLAS_URL = "https://www.polizei.sachsen.de/de/download/PKS-Atlas25_Grossstaedte.pdf"
LICENCE = "Polizei Sachsen, Kriminalitätsatlas (amtliche Statistik; Quelle angeben)"
EXPECTED_DISTRICTS = 39  # Stadtteile of Chemnitz

# The eight offence groups in the order of the atlas columns (after the HZ).
GROUPS = (
    "homicide",  # Straftaten gegen das Leben
    "sexual",  # Sexualdelikte
    "violence_proxy",  # Rohheitsdelikte und Straftaten gegen die persönliche Freiheit
    "simple_theft",  # einfacher Diebstahl
    "aggravated_theft",  # schwerer Diebstahl
    "fraud",  # Vermögens- und Fälschungsdelikte
    "other_stgb",  # sonstige Straftaten StGB
    "secondary_law",  # Nebenstrafrecht
)
GROUP_COLUMNS = tuple(f"{g}_cases" for g in GROUPS)
OUTPUT_COLUMNS = (
    "code",
    "year",
    "edition",
    "crime_total_cases",
    "crime_total_rate",
    "population_est",
    "homicide_cases",
    "sexual_cases",
    "violence_proxy_cases",
    "simple_theft_cases",
    "aggravated_theft_cases",
    "property_total_cases",
    "fraud_cases",
    "other_stgb_cases",
    "secondary_law_cases",
)
MIN_YEAR, MAX_YEAR = 1990, 2100


def edition(year: int) -> str:
    return f"Kriminalitätsatlas {year} (Polizei Sachsen)"


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

_DASHES = {"-", "–", "—", "‒", "−"}
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\t": " "})
_INT_RE = re.compile(r"^(?:\d{1,3}(?:\.\d{3})+|\d+)$")  # 5.204 / 5204
_DEC_RE = re.compile(r"^(?:\d{1,3}(?:\.\d{3})+|\d+),\d+$")  # 32.339,5 / 32339,5
_SIGNED_RE = re.compile(r"^[+\-−–]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?%?$")  # +3,5 / -12 / 24,7%
_THOUSANDS_RE = re.compile(r"^\d{1,3}(?:\.\d{3})+$")


def _is_numeric(token: str) -> bool:
    return token in _DASHES or bool(_SIGNED_RE.match(token))


def _german_int(token: str) -> int | None:
    """A non-negative German integer ("5.204", "85", "-" = 0); None if it is none."""
    if token in _DASHES:
        return 0
    if _INT_RE.match(token):
        return int(token.replace(".", ""))
    return None


def _german_rate(token: str) -> float | None:
    """A non-negative German number with optional decimals ("32.339", "2.367,4")."""
    if token in _DASHES:
        return 0.0
    if _INT_RE.match(token):
        return float(token.replace(".", ""))
    if _DEC_RE.match(token):
        return float(token.replace(".", "").replace(",", "."))
    return None


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------


@dataclass
class _Row:
    code: str
    name: str
    total: int
    rate: float
    groups: tuple[int, ...]  # in the order of GROUPS
    where: str  # "line 12 '…'" or "row 3": for messages


# city-total lines: "Stadt Chemnitz insgesamt", "Summe", "Chemnitz gesamt", "Stadt Chemnitz"
_TOTAL_RE = re.compile(r"insgesamt|gesamt|summe|total|^stadt\b|^chemnitz$", re.IGNORECASE)


def _is_total(name: str) -> bool:
    return bool(_TOTAL_RE.search(name))


def _check_row(row: _Row) -> str | None:
    """A reason why the row is implausible, or None."""
    if sum(row.groups) != row.total:
        return (
            f"the eight offence groups add up to {sum(row.groups)}, not to the total of {row.total} cases "
            "(columns misread?)"
        )
    if row.total == 0 and row.rate > 0:
        return f"Häufigkeitszahl {row.rate:g} with 0 cases"
    return None


# ---------------------------------------------------------------------------
# Text (PDF)
# ---------------------------------------------------------------------------

_CODE_LINE_RE = re.compile(r"^(\d{2})(?=\s|[^\W\d_])\s*(.*)$")
MIN_NUMBERS = 1 + 1 + len(GROUPS)  # total cases, HZ, eight groups


def _split(line: str) -> tuple[str, list[str], list[str]] | None:
    """(code, name tokens, number tokens) of a line starting with a district code, else None."""
    m = _CODE_LINE_RE.match(line)
    if not m:
        return None
    tokens = [t for t in m.group(2).split() if t != "%"]  # a detached percent sign of an extra column
    last_word = max((i for i, t in enumerate(tokens) if not _is_numeric(t)), default=-1)
    return m.group(1), tokens[: last_word + 1], tokens[last_word + 1 :]


def _scan_text(text: str) -> tuple[list[_Row], list[str]]:
    """District rows and the problems of malformed district lines (each naming its line)."""
    lines = [" ".join(raw.translate(_SPACES).split()) for raw in text.splitlines()]
    rows: list[_Row] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        i += 1
        parts = _split(line)
        if parts is None:
            continue
        code, name_tokens, numbers = parts
        if not numbers and name_tokens and i < len(lines) and _split(lines[i]) is None:
            # a name wrapped onto the next line: "26 Kleinolbersdorf-" / "Altenhain 43 2.003 …"
            nxt = lines[i].split()
            last_word = max((k for k, t in enumerate(nxt) if not _is_numeric(t)), default=-1)
            if nxt[last_word + 1 :] and len(nxt) - last_word - 1 >= MIN_NUMBERS:
                joiner = "" if line.endswith("-") else " "
                line = f"{line}{joiner}{lines[i]}"
                i += 1
                code, name_tokens, numbers = _split(line)
        if not numbers:
            continue  # a heading or footnote that happens to start with two digits
        name = " ".join(name_tokens)
        if _is_total(name):
            continue
        where = f"line {number} {line!r}"
        if not name:
            problems.append(f"{where}: no district name after the code")
            continue
        if len(numbers) < MIN_NUMBERS:
            problems.append(
                f"{where}: expected at least {MIN_NUMBERS} numbers (cases, Häufigkeitszahl and "
                f"{len(GROUPS)} offence groups), found {len(numbers)}"
            )
            continue
        total = _german_int(numbers[0])
        rate = _german_rate(numbers[-9])
        groups = [_german_int(t) for t in numbers[-8:]]
        bad = [t for t, v in zip([numbers[0], numbers[-9], *numbers[-8:]], [total, rate, *groups]) if v is None]
        if bad:
            problems.append(f"{where}: not a case number or rate: {', '.join(repr(b) for b in bad)}")
            continue
        row = _Row(code, name, total, _rate_or_nan(rate, total), tuple(groups), where)
        reason = _check_row(row)
        if reason:
            problems.append(f"{where}: {reason}")
            continue
        if code in seen:
            problems.append(f"{where}: district code {code} appears twice (first in {seen[code]})")
            continue
        seen[code] = where
        rows.append(row)
    return rows, problems


def _rate_or_nan(rate: float, total: int) -> float:
    # '-' as Häufigkeitszahl of a district with cases: not computed, not 0
    return math.nan if rate == 0 and total > 0 else rate


def _raise_problems(problems: list[str], prefix: str = "") -> None:
    shown = "; ".join(problems[:5])
    more = f"; … and {len(problems) - 5} more" if len(problems) > 5 else ""
    raise SourceFormatError(f"{prefix}{len(problems)} malformed district line(s): {shown}{more}")


def parse_atlas_text(text: str, year: int) -> pd.DataFrame:
    """The district table in text extracted from the atlas PDF (see the module docstring)."""
    rows, problems = _scan_text(text)
    if problems:
        _raise_problems(problems)
    if not rows:
        raise SourceFormatError("no district lines found (expected lines like '01 Zentrum 5.204 … 32.339 2 73 …')")
    return _frame(rows, year)


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def _name_key(name: str) -> str:
    text = name.casefold().replace("ß", "ss")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "", text)


def _known_districts() -> dict[str, str]:
    """code -> name key of the bundled Chemnitz districts."""
    from loaders.demo import facts

    f = facts()
    return {str(c): _name_key(str(n)) for c, n in zip(f["code"], f["name"])}


def _page_texts(data: bytes, mode: str) -> list[str]:
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        texts = []
        for page in reader.pages:
            texts.append(page.extract_text(extraction_mode=mode) or "")
        return texts
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise SourceFormatError(f"the PDF cannot be read ({type(exc).__name__}: {exc})") from exc


def parse_atlas_pdf(data: bytes, year: int) -> pd.DataFrame:
    """The Chemnitz district table of the atlas PDF (see the module docstring for the page choice)."""
    known = _known_districts()
    pages: list[tuple[list[_Row], list[str]]] = []
    for mode in ("plain", "layout"):  # layout only if plain text shows no district line anywhere
        texts = _page_texts(data, mode)
        pages = [_scan_text(t) for t in texts]
        if any(rows or problems for rows, problems in pages):
            break
    if not any(rows or problems for rows, problems in pages):
        raise SourceFormatError(
            f"no district table found in the PDF ({len(pages)} page(s)); expected lines like "
            "'01 Zentrum 5.204 … 32.339 2 73 …'"
        )

    def score(index: int) -> tuple[int, int, int]:
        rows, problems = pages[index]
        matches = sum(1 for r in rows if known.get(r.code) == _name_key(r.name))
        return matches, len(rows) + len(problems), -index

    best = max(range(len(pages)), key=score)
    rows, problems = pages[best]
    if problems:
        _raise_problems(problems, prefix=f"page {best + 1}: ")
    return _frame(rows, year)


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------

_ALIASES: dict[str, tuple[str, ...]] = {
    "code": (
        "code", "nr", "nummer", "schluessel", "stadtteilschluessel", "stadtteilnummer", "stadtteil nr",
        "stadtteilnr", "kennziffer", "stt nr",
    ),
    "name": ("name", "stadtteil", "stadtteilname", "bezeichnung"),
    "crime_total_cases": (
        "crime total cases", "straftaten insgesamt", "straftaten", "faelle", "faelle insgesamt",
        "erfasste faelle", "gesamt", "insgesamt",
    ),
    "crime_total_rate": ("crime total rate", "hz", "hz insgesamt", "haeufigkeitszahl"),
    "homicide_cases": ("homicide cases", "straftaten gegen das leben"),
    "sexual_cases": ("sexual cases", "sexualdelikte", "straftaten gegen die sexuelle selbstbestimmung"),
    "violence_proxy_cases": (
        "violence proxy cases", "rohheitsdelikte", "rohheitsdelikte und straftaten gegen die persoenliche freiheit",
    ),
    "simple_theft_cases": ("simple theft cases", "einfacher diebstahl", "diebstahl ohne erschwerende umstaende"),
    "aggravated_theft_cases": (
        "aggravated theft cases", "schwerer diebstahl", "diebstahl unter erschwerenden umstaenden",
    ),
    "fraud_cases": ("fraud cases", "vermoegens und faelschungsdelikte"),
    "other_stgb_cases": ("other stgb cases", "sonstige straftaten stgb", "sonstige straftatbestaende stgb"),
    "secondary_law_cases": ("secondary law cases", "nebenstrafrecht", "strafrechtliche nebengesetze"),
    "year": ("year", "jahr", "berichtsjahr"),
}
_HEADER_TO_FIELD = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_REQUIRED = ("code", "crime_total_cases", "crime_total_rate", *GROUP_COLUMNS)


def _header_key(header: str) -> str:
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", header)  # "(Fälle)", "[1]"
    text = re.sub(r"\s*(?:\d\)|\*+)\s*$", "", text)  # trailing footnote marker "1)" or "*"
    text = re.sub(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]", "", text).casefold()
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:30]):
        fields: dict[str, int] = {}
        for col, header in enumerate(row):
            field = _HEADER_TO_FIELD.get(_header_key(header))
            if field and field not in fields:
                fields[field] = col
        if "code" in fields and "crime_total_cases" in fields:
            return index, fields
    return None


def _cell_number(value: str, *, integer: bool, german: bool) -> float | None:
    """A cell as a number; None if it is not one. ``german``: dots are thousands separators."""
    text = value.translate(_SPACES).replace(" ", "")
    if text in _DASHES:
        return 0.0
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif _THOUSANDS_RE.match(text) and (integer or german):
        text = text.replace(".", "")
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if integer and number != int(number):
        return None
    return number


def parse_atlas_csv(data: bytes, year: int) -> pd.DataFrame:
    """The district table in CSV form (accepted headers: see the module docstring)."""
    text = _decode(data)
    found = None
    for sep in (";", ",", "\t"):
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        found = _find_header(rows)
        if found:
            break
    if not found:
        accepted = "; ".join(f"{field}: {', '.join(a)}" for field, a in _ALIASES.items())
        raise SourceFormatError(
            f"CSV: no header row with a district code and a case column found (accepted: {accepted})"
        )
    header_index, fields = found
    missing = [f for f in _REQUIRED if f not in fields]
    if missing:
        headers = ", ".join(f"{f} ({'/'.join(_ALIASES[f][1:3] or _ALIASES[f][:1])})" for f in missing)
        raise SourceFormatError(f"CSV: column(s) missing: {headers}")

    records: list[tuple[int, dict[str, str]]] = []
    for offset, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):
        cell = {f: cells[c].strip() if c < len(cells) else "" for f, c in fields.items()}
        code, name = cell["code"], cell.get("name", "")
        if not any(c.strip() for c in cells) or not code:
            continue  # empty row, or a total/footnote row without a code
        if not re.fullmatch(r"\d{1,2}", code):
            if _is_total(code) or _is_total(name) or not cell["crime_total_cases"]:
                continue  # "Summe", "Stadt Chemnitz insgesamt", a footnote
            raise SourceFormatError(f"CSV row {offset}: {code!r} is not a district code")
        if _is_total(name):
            continue
        records.append((offset, cell))
    if not records:
        raise SourceFormatError("CSV: no district rows found")

    numeric = ("crime_total_rate", "crime_total_cases", *GROUP_COLUMNS)
    # a rate column whose dotted values all look like "32.339" uses dots as thousands separators
    dotted = [c["crime_total_rate"] for _, c in records if "." in c["crime_total_rate"]]
    german_rate = bool(dotted) and all(_THOUSANDS_RE.match(v.replace(" ", "")) for v in dotted)
    out: list[_Row] = []
    seen: dict[str, int] = {}
    for line, cell in records:
        values = {}
        for field in numeric:
            integer = field != "crime_total_rate"
            value = _cell_number(cell[field], integer=integer, german=german_rate)
            if value is None:
                kind = "a case number" if integer else "a rate"
                raise SourceFormatError(f"CSV row {line} column {field}: {cell[field]!r} is not {kind}")
            values[field] = value
        if "year" in cell and cell["year"] and cell["year"] != str(year):
            raise SourceFormatError(f"CSV row {line}: year {cell['year']} differs from the requested year {year}")
        code = cell["code"].zfill(2)
        total = int(values["crime_total_cases"])
        row = _Row(
            code,
            cell.get("name", ""),
            total,
            _rate_or_nan(values["crime_total_rate"], total),
            tuple(int(values[c]) for c in GROUP_COLUMNS),
            f"CSV row {line}",
        )
        reason = _check_row(row)
        if reason:
            raise SourceFormatError(f"{row.where}: {reason}")
        if code in seen:
            raise SourceFormatError(f"{row.where}: district code {code} appears twice (first in row {seen[code]})")
        seen[code] = line
        out.append(row)
    return _frame(out, year)


# ---------------------------------------------------------------------------
# Frame, year, fetch
# ---------------------------------------------------------------------------


def _frame(rows: list[_Row], year: int) -> pd.DataFrame:
    year = _check_year(year)
    rows = sorted(rows, key=lambda r: r.code)
    groups = {col: [r.groups[i] for r in rows] for i, col in enumerate(GROUP_COLUMNS)}
    population = [
        round(r.total / r.rate * 100_000) if r.rate and not math.isnan(r.rate) else None for r in rows
    ]
    frame = pd.DataFrame(
        {
            "code": pd.Series([r.code for r in rows]).astype(str),
            "year": year,
            "edition": edition(year),
            "crime_total_cases": pd.Series([r.total for r in rows], dtype="int64"),
            "crime_total_rate": pd.Series([r.rate for r in rows], dtype="float64"),
            "population_est": pd.Series(population, dtype="int64" if None not in population else "Int64"),
            **{col: pd.Series(values, dtype="int64") for col, values in groups.items()},
        }
    )
    frame["year"] = frame["year"].astype("int64")
    frame["property_total_cases"] = frame["simple_theft_cases"] + frame["aggravated_theft_cases"]
    return frame[list(OUTPUT_COLUMNS)]


def _check_year(year) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError) as exc:
        raise SourceFormatError(f"year {year!r} is not a number") from exc
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise SourceFormatError(f"year {value} is outside {MIN_YEAR}–{MAX_YEAR}")
    return value


_YEAR4_RE = re.compile(r"(?<!\d)(19\d{2}|20\d{2}|2100)(?!\d)")
_YEAR2_RE = re.compile(r"(?:atlas|pks)[\s_-]*(\d{2})(?!\d)", re.IGNORECASE)


def year_from(url_or_name: str) -> int | None:
    """The edition year in a file name or URL ("PKS-Atlas25_Grossstaedte.pdf" -> 2025), or None."""
    parsed = urlparse(url_or_name)
    path = unquote(parsed.path if parsed.scheme and parsed.netloc else url_or_name.split("?")[0])
    candidates = [PurePosixPath(path.replace("\\", "/")).name, path, unquote(parsed.query)]
    for text in candidates:
        for m in _YEAR4_RE.finditer(text):
            if MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
                return int(m.group(1))
        m = _YEAR2_RE.search(text)
        if m:
            return 2000 + int(m.group(1))
    return None


def _looks_like_html(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body"))


def fetch_crime_stats(url: str, progress: Progress | None = None, year: int | None = None) -> pd.DataFrame:
    """Download the atlas (PDF or CSV) and return one year's district table. Does not touch the store."""
    from loaders import schema

    host = urlparse(url).hostname or url
    year = year if year is not None else year_from(url)
    if year is None:
        raise SourceFormatError(
            f"{host}: cannot tell the atlas year from {url!r}; give the year explicitly "
            "(file names like 'PKS-Atlas25_…pdf' or '…_2025.csv' are recognised)"
        )
    data = get_bytes(url, progress=progress)
    if b"%PDF-" in data[:1024]:
        frame = parse_atlas_pdf(data, year)
    elif _looks_like_html(data):
        raise SourceFormatError(f"{host}: the answer is a web page, not the atlas PDF or CSV ({url})")
    else:
        frame = parse_atlas_csv(data, year)
    try:
        schema.validated("crime_stats", frame)
    except schema.ValidationError as exc:
        raise SourceFormatError(f"{host}: {exc}") from exc
    return frame


def merge_years(existing: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """``existing`` rows of other years plus all of ``new``; rows of the years in ``new`` are replaced.

    Columns present in only one side are kept (missing values become <NA>; integer
    columns stay integer). Sorted by year, then code.
    """
    years = set(pd.to_numeric(new["year"]).astype(int))
    parts = []
    if existing is not None and len(existing):
        old = pd.DataFrame(existing)
        old = old.drop(columns=[c for c in ("geometry", "fid") if c in old.columns])
        keep = old[~pd.to_numeric(old["year"]).astype(int).isin(years)]
        if len(keep):
            parts.append(keep)
    parts.append(pd.DataFrame(new))
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
    for col in merged.columns:
        was_int = any(col in p.columns and pd.api.types.is_integer_dtype(p[col].dtype) for p in parts)
        if was_int and not pd.api.types.is_integer_dtype(merged[col].dtype):
            values = pd.to_numeric(merged[col], errors="coerce")
            if values.dropna().eq(values.dropna().round()).all():
                merged[col] = values.astype("Int64")
    merged["code"] = merged["code"].astype(str)
    merged["year"] = pd.to_numeric(merged["year"]).astype("int64")
    return merged.sort_values(["year", "code"], kind="stable").reset_index(drop=True)


SOURCES = [
    Source(
        name="crime_stats",
        layer="crime_stats",
        default_url=ATLAS_URL,
        licence=LICENCE,
        description="Polizei Sachsen Kriminalitätsatlas",
        fetch=fetch_crime_stats,
        merge=merge_years,  # ``run`` keeps the stored rows of other years
    )
]
