"""The report page as a supervisor sees it: rendered by headless Chromium, its charts are
really drawn (coloured pixels of the series in the screenshot), and a page without data shows
none."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bots.encoding import LEXICAL
from bots.report.charts import GREEN, ORANGE, RED
from bots.report.collect import collect
from bots.report.html import render_html
from bots.report.texts import load_report_texts
from bots.settings import Settings
from escalation.records import Records
from tests.browser.fixtures import screenshot
from tests.report.conftest import NOW, PERIOD, History

SETTINGS = Settings(faq_encoder="off")
# The series colours appear only in the charts (tables and headings are grey and black).
SERIES = {"green": GREEN, "orange": ORANGE, "red": RED}
MIN_PIXELS = 300  # a bar or a line of a chart; anti-aliased text never comes close
TOLERANCE = 40


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def coloured_pixels(shot: Path) -> dict[str, int]:
    """How many pixels of the screenshot have each series colour (within a tolerance)."""
    image = Image.open(shot).convert("RGB")
    counts = dict.fromkeys(SERIES, 0)
    targets = {name: _rgb(colour) for name, colour in SERIES.items()}
    for pixel, count in _colours(image).items():
        for name, (r, g, b) in targets.items():
            if abs(pixel[0] - r) + abs(pixel[1] - g) + abs(pixel[2] - b) <= TOLERANCE:
                counts[name] += count
    return counts


def _colours(image: Image.Image) -> dict[tuple[int, ...], int]:
    return {tuple(colour): count  # an RGB image's colours are (r, g, b)
            for count, colour in image.getcolors(maxcolors=1 << 24) or []
            if isinstance(colour, tuple)}


async def page(sessions, records: Records, names: list[str], tmp_path: Path) -> Path:
    report = await collect(sessions, SETTINGS, records, names, PERIOD, now=NOW,
                           semantics=LEXICAL)
    path = tmp_path / "report.html"
    path.write_text(render_html(report, load_report_texts()), encoding="utf-8")
    return path


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_chromium_shows_the_charts(chromium: Path, history: History,
                                         tmp_path: Path) -> None:
    shot = screenshot(chromium, await page(history.sessions, history.records, ["payments"],
                                           tmp_path), tmp_path / "shot.png")

    counts = coloured_pixels(shot)

    assert all(n >= MIN_PIXELS for n in counts.values()), counts


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_chromium_shows_no_chart_without_data(chromium: Path, sessions,
                                                    tmp_path: Path) -> None:
    shot = screenshot(chromium, await page(sessions, Records(sessions), ["payments"],
                                           tmp_path), tmp_path / "shot.png")

    counts = coloured_pixels(shot)

    assert all(n < MIN_PIXELS for n in counts.values()), counts
    assert Image.open(shot).size == (1200, 3000)
