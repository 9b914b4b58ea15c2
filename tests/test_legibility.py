"""The map reads on a washed-out projector: every layer keeps a colour of its own, and
lines, points and labels stand out from a light basemap.

Colour difference is CIEDE2000 (ΔE00; about 1 is just noticeable, above 10 is a clearly
different colour); contrast is the WCAG 2 contrast ratio (3:1 is the minimum for
graphics and large text). Both are implemented here and checked against published
reference values.
"""

from __future__ import annotations

import itertools
import math

import pytest

from dashboard import mapview

MIN_LAYER_DE = 10.0  # colours of different layers
MIN_CLASS_DE = 8.0  # neighbouring classes of one scale
MIN_FILL_DE = 12.0  # a fill, as drawn, against the basemap
MIN_FILL_DL = 10.0  # ... and darker than it by this much lightness (L*): chroma alone fades on a projector
MIN_CONTRAST = 3.0  # WCAG 2: graphical objects and large text
WASH_OUT = 0.3  # a projector in a lit room: a third of every colour is white light


# -- colour science --------------------------------------------------------------------

def srgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour."""
    r, g, b = (_linear(c) for c in srgb(colour))
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (kL = kC = kH = 1), after Sharma, Wu and Dalal (2005)."""
    L1, a1, b1 = lab1
    L2, a2, b2 = lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0

    dl = L2 - L1
    dc = c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    elif abs(h2p - h1p) <= 180:
        dh = h2p - h1p
    elif h2p - h1p > 180:
        dh = h2p - h1p - 360
    else:
        dh = h2p - h1p + 360
    dH = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))

    l_mean = (L1 + L2) / 2
    cp_mean = (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        h_mean = (h1p + h2p + 360) / 2
    else:
        h_mean = (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    d_theta = 30 * math.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dH / s_h) ** 2 + r_t * (dc / s_c) * (dH / s_h))


def delta_e(c1: str, c2: str) -> float:
    return ciede2000(lab(c1), lab(c2))


def luminance(colour: str) -> float:
    r, g, b = (_linear(c) for c in srgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(c1: str, c2: str) -> float:
    hi, lo = sorted((luminance(c1), luminance(c2)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def darker_by(fill: str, background: str) -> float:
    """How much darker ``fill`` is than ``background``, in L*."""
    return lab(background)[0] - lab(fill)[0]


def washed_out(colour: str) -> str:
    return mapview.blend("#ffffff", WASH_OUT, colour)


# -- the formulas themselves ----------------------------------------------------------------

# Sharma, Wu, Dalal: "The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations" (2005), table 1.
SHARMA = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize("lab1, lab2, expected", SHARMA)
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)  # symmetric


def test_lab_and_contrast_of_known_colours():
    assert lab("#ffffff") == pytest.approx((100, 0, 0), abs=1e-3)
    assert lab("#000000") == pytest.approx((0, 0, 0), abs=1e-9)
    assert lab("#ff0000") == pytest.approx((53.2408, 80.0925, 67.2032), abs=1e-3)
    assert lab("#0000ff") == pytest.approx((32.2970, 79.1875, -107.8602), abs=1e-3)
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert delta_e("#123456", "#123456") == 0


def test_the_checks_catch_the_old_palette():
    """The colours before this palette: red and orange scales on top of each other,
    a pale-yellow lowest class. The checks below must reject them."""
    old_districts = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
    old_hexes = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]
    old_hotspot = "#b2182b"
    assert min(delta_e(a, b) for a in old_districts for b in [*old_hexes, old_hotspot]) < MIN_LAYER_DE
    assert darker_by(mapview.blend(old_districts[0], 0.65, "#f2efe9"), "#f2efe9") < MIN_FILL_DL


# -- the palette ---------------------------------------------------------------------------

def layer_pairs():
    for (l1, c1s), (l2, c2s) in itertools.combinations(mapview.LAYER_COLOURS.items(), 2):
        for c1 in c1s:
            for c2 in c2s:
                yield l1, c1, l2, c2


def test_layers_keep_their_own_colours():
    close = [(l1, c1, l2, c2, round(delta_e(c1, c2), 1)) for l1, c1, l2, c2 in layer_pairs() if delta_e(c1, c2) < MIN_LAYER_DE]
    assert close == []


def test_layers_keep_their_own_colours_on_a_washed_out_projector():
    close = [
        (l1, c1, l2, c2)
        for l1, c1, l2, c2 in layer_pairs()
        if delta_e(washed_out(c1), washed_out(c2)) < MIN_LAYER_DE
    ]
    assert close == []


@pytest.mark.parametrize("scale", ["CHOROPLETH_COLOURS", "HEX_COLOURS"])
def test_classes_of_a_scale_can_be_told_apart(scale):
    colours = getattr(mapview, scale)
    assert len(colours) == 5
    steps = [delta_e(a, b) for a, b in zip(colours, colours[1:])]
    assert min(steps) >= MIN_CLASS_DE, steps
    assert [lab(c)[0] for c in colours] == sorted((lab(c)[0] for c in colours), reverse=True)  # light to dark


@pytest.mark.parametrize("background", mapview.BASEMAP_BACKGROUNDS)
def test_every_fill_stands_out_from_the_basemap(background):
    """No class that vanishes on a light basemap (the old pale-yellow lowest class)."""
    fills = [(c, mapview.CHOROPLETH_OPACITY) for c in mapview.CHOROPLETH_COLOURS]
    fills += [(c, mapview.HEX_OPACITY) for c in mapview.HEX_COLOURS]
    fills += [(mapview.COVERAGE_COLOUR, o) for o in mapview.COVERAGE_OPACITY]
    drawn = [(c, o, mapview.blend(c, o, background)) for c, o in fills]
    assert [(c, o) for c, o, d in drawn if delta_e(d, background) < MIN_FILL_DE] == []
    assert [(c, o) for c, o, d in drawn if darker_by(d, background) < MIN_FILL_DL] == []


def test_hexagons_stay_readable_on_top_of_the_choropleth():
    base = "#f2efe9"
    districts = [mapview.blend(c, mapview.CHOROPLETH_OPACITY, base) for c in mapview.CHOROPLETH_COLOURS]
    worst = min(
        delta_e(mapview.blend(h, mapview.HEX_OPACITY, under), other)
        for h in mapview.HEX_COLOURS
        for under in districts
        for other in districts
    )
    assert worst >= MIN_LAYER_DE


@pytest.mark.parametrize("background", mapview.BASEMAP_BACKGROUNDS)
@pytest.mark.parametrize("what", sorted(mapview.LINE_COLOURS))
def test_lines_points_and_labels_contrast_with_the_basemap(what, background):
    assert contrast(mapview.LINE_COLOURS[what], background) >= MIN_CONTRAST


def test_labels_read_on_their_halo():
    assert contrast(mapview.LABEL_COLOUR, mapview.HALO_COLOUR) >= 7  # WCAG AAA for text
    for pattern in mapview.HATCH.values():  # hatching lines are thin: they need the same contrast
        for background in mapview.BASEMAP_BACKGROUNDS:
            assert contrast(pattern["colour"], background) >= MIN_CONTRAST


def test_every_layer_colour_is_explained_by_a_legend():
    """Each key colour appears in the legend of its layer (fills as drawn over white)."""
    cls = mapview.Classes([1.0, 2.0, 3.0, 4.0, 5.0], mapview.CHOROPLETH_COLOURS, 0.0)
    hexes = mapview.Classes([1.0, 2.0, 3.0, 4.0, 5.0], mapview.HEX_COLOURS, 1.0)
    legends = {
        "districts": mapview.choropleth_legend(cls, "incidents_per_1000", "de"),
        "incidents": mapview.hex_legend(hexes, "de") + mapview.point_legend("de"),
        "green": mapview.green_legend("de"),
        "coverage": mapview.coverage_legend("de"),
        "hotspots": mapview.hotspot_legend("de"),
        "meeting": mapview.symbol_legend(["meeting"], "de"),
        "facilities": mapview.symbol_legend(["facilities"], "de"),
        "centre": mapview.symbol_legend(["centre"], "de"),
    }
    assert set(legends) == set(mapview.LAYER_COLOURS)
    opacity = {**{c: mapview.CHOROPLETH_OPACITY for c in mapview.CHOROPLETH_COLOURS},
               **{c: mapview.HEX_OPACITY for c in mapview.HEX_COLOURS}, mapview.NO_DATA: mapview.NO_DATA_OPACITY}
    missing = [
        (layer, c)
        for layer, colours in mapview.LAYER_COLOURS.items()
        for c in colours
        if c not in legends[layer] and mapview.blend(c, opacity.get(c, 1.0)) not in legends[layer]
    ]
    assert missing == []
