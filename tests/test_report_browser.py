"""The report in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`, which
scripts/test.sh installs) driven by selenium through /usr/bin/chromedriver, so nothing is downloaded.

The page loads without a console error, every plot renders (its screenshot is not blank), the
numbers read from the DOM equal `rewardc score --format json`'s, and the hostile completion is
text on the page: no element it carries exists, no handler ran.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from report_data import HOSTILE, RULES, write_inputs
from rewardlang import cli

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _run(*argv: str | Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main([str(a) for a in argv]) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium: pip install 'rewardlang[test]'")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: scripts/test.sh installs them "
                    "(apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def opened(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    spec, data = write_inputs(tmp_path_factory.mktemp("browser"))
    report = data.parent / "report.html"
    _run("score", spec, "--data", data, "--report", report)
    document = json.loads(_run("score", spec, "--data", data, "--format", "json"))
    browser.get_log("browser")  # drop anything logged before
    browser.get(report.as_uri())
    return browser, document


def test_the_page_loads_without_console_errors(opened: tuple[Any, dict[str, Any]]):
    driver, document = opened
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.title == f"demo · {document['data']}"  # no handler of the hostile text ran (it sets the title)
    messages = driver.get_log("browser")
    assert [entry for entry in messages if entry["level"] in ("SEVERE", "WARNING")] == []


def test_every_plot_renders(opened: tuple[Any, dict[str, Any]]):
    from PIL import Image
    from selenium.webdriver.common.by import By

    driver, _ = opened
    figures = driver.find_elements(By.CSS_SELECTOR, "figure[data-plot]")
    names = [figure.get_attribute("data-plot") for figure in figures]
    assert names == ["total", *(f"rule:{rule}" for rule in RULES), "correlation"]
    for figure in figures:
        svg = figure.find_element(By.TAG_NAME, "svg")
        driver.execute_script("arguments[0].scrollIntoView()", svg)
        size = svg.size
        assert size["width"] > 200 and size["height"] > 100, (figure.get_attribute("data-plot"), size)
        image = Image.open(io.BytesIO(svg.screenshot_as_png)).convert("L")
        dark = sum(image.histogram()[:200])  # pixels of axes, bars, labels, cells (grey levels below 200)
        share = dark / (image.width * image.height)
        assert share > 0.01, (figure.get_attribute("data-plot"), share)


def test_the_numbers_in_the_dom_equal_the_json_output(opened: tuple[Any, dict[str, Any]]):
    from selenium.webdriver.common.by import By

    driver, document = opened
    summary = document["summary"]

    def cell(selector: str) -> tuple[Any, str]:
        found = driver.find_elements(By.CSS_SELECTOR, selector)
        assert len(found) == 1, selector
        return json.loads(found[0].get_attribute("data-value")), found[0].text

    for name, key, stats in [*((r, f"rule:{r}", summary["rules"][r]) for r in RULES), ("total", "total",
                                                                                      summary["total"])]:
        for field in ("mean", "min", "max"):
            value, text = cell(f'td[data-stat="{key}"][data-field="{field}"]')
            assert value == stats[field], (name, field)
            assert text == ("n/a" if stats[field] is None else f"{stats[field]:.3f}"), (name, field)
        value, text = cell(f'td[data-stat="{key}"][data-field="none"]')
        assert value == stats["none"] and text == str(stats["none"])
    for row in document["rows"]:
        value, text = cell(f'strong[data-row="{row["row"]}"][data-field="total"]')
        assert value == row["total"] and text == f"{row['total']:.3f}"
    for task in summary["tasks"]:
        for rule in RULES:
            value, _ = cell(f'td[data-task="{task["task"]}"][data-rule="{rule}"][data-field="mean"]')
            assert value == task["rules"][rule]["mean"]


def test_the_hostile_completion_is_shown_as_text(opened: tuple[Any, dict[str, Any]]):
    from selenium.webdriver.common.by import By

    driver, _ = opened
    assert driver.find_elements(By.TAG_NAME, "img") == []
    assert driver.find_elements(By.TAG_NAME, "script") == []
    texts = [element.text for element in driver.find_elements(By.CSS_SELECTOR, ".completion pre")]
    assert HOSTILE in texts
