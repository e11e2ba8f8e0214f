"""The analyst board of a live worker, in a real headless Chromium, and its JSON API.

Needs Debian's ``chromium`` and ``chromium-driver`` (``./scripts/test`` installs them when
missing); the browser test skips only when they are absent. With
``WATCHFLOOR_SCREENSHOT_DIR`` set, the screenshot it takes is also written there (the
README's is made this way).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import Request

import pytest
from pydantic import SecretStr

from streams.offline import run_offline
from streams.settings import Settings
from tests.integration.test_pipeline import feed_lines, run_pipeline
from tests.support.worker_process import open_local

pytestmark = pytest.mark.integration

TOKEN = "board-test-token-0123456789"
KEY = "belarus-men-crossing-eu|eastern-europe"


def status(settings: Settings, path: str, token: str | None = TOKEN) -> int:
    """The HTTP status of a GET (the error body is read and closed)."""
    try:
        api(settings, path, token)
    except HTTPError as exc:
        with exc:
            return exc.code
    return 200


def api(settings: Settings, path: str, token: str | None = TOKEN) -> Any:
    request = Request(f"http://127.0.0.1:{settings.web_port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with open_local(request, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("chromium and chromedriver are not installed (Debian `chromium-driver`)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1100", "--disable-gpu"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def board_worker(settings: Settings, worker_factory) -> tuple[Settings, int]:
    """A worker that has detected the sample feed's alerts, with a token set."""
    settings = settings.model_copy(update={"http_token": SecretStr(TOKEN)})
    lines = feed_lines()
    expected = len(run_offline(lines, settings).alerts)
    run_pipeline(settings, worker_factory, lines, expected)
    deadline = time.monotonic() + 60
    while len(api(settings, "/v1/alerts")["alerts"]) < expected:
        assert time.monotonic() < deadline, "the board did not read every alert"
        time.sleep(0.5)
    return settings, expected


def test_the_api_lists_alerts_filters_them_and_gives_a_keys_series(
    board_worker: tuple[Settings, int],
) -> None:
    settings, expected = board_worker
    assert status(settings, "/v1/alerts", token=None) == 401
    assert status(settings, "/v1/alerts", token="wrong") == 401
    data = api(settings, "/v1/alerts")
    alerts = data["alerts"]
    assert len(alerts) == expected and data["facets"]["signals"] == ["belarus-men-crossing-eu"]
    ends = [a["window_end"] for a in alerts]
    assert ends == sorted(ends, reverse=True)  # newest first
    assert all(a["evidence"] and a["evidence"][0]["title"] for a in alerts)
    severity = alerts[0]["severity"]
    only = api(settings, f"/v1/alerts?severity={severity}&limit=2")["alerts"]
    assert 1 <= len(only) <= 2 and {a["severity"] for a in only} == {severity}
    assert status(settings, "/v1/alerts?severity=loud") == 400
    assert status(settings, "/v1/alerts?limit=many") == 400

    series = api(settings, f"/v1/keys/{quote(KEY, safe='')}/series")
    assert series["key"] == KEY and series["step"] == 3600
    assert len(series["starts"]) == len(series["counts"]) == len(series["baselines"])
    assert max(series["counts"]) >= 8  # the surge's busiest hour
    assert len(series["alerts"]) == expected
    assert status(settings, f"/v1/keys/{quote('no|such-key', safe='')}/series") == 404
    assert status(settings, f"/v1/keys/{quote(KEY, safe='')}/series", token=None) == 401


def test_the_board_shows_filters_and_charts_the_alerts_in_chromium(
    board_worker: tuple[Settings, int], browser: Any, tmp_path: Path
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    settings, expected = board_worker
    # The page redraws the table every few seconds: a row found just before may be gone.
    wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))
    browser.get(f"http://127.0.0.1:{settings.web_port}/board/#token={TOKEN}")

    def rows() -> list[Any]:
        return list(browser.find_elements(By.CSS_SELECTOR, "#alerts tbody tr"))

    wait.until(lambda _: len(rows()) == expected)
    first = rows()[0]
    assert KEY in first.text and "expected" in first.text
    assert first.find_elements(By.CSS_SELECTOR, "ul.evidence li a")  # titles link out

    # Filters: a severity keeps only its alerts; "all" brings every one back.
    severity = first.get_attribute("data-severity")
    Select(browser.find_element(By.NAME, "severity")).select_by_value(severity)
    wait.until(lambda _: all(r.get_attribute("data-severity") == severity for r in rows()))
    kept = len(rows())
    assert 1 <= kept <= expected
    Select(browser.find_element(By.NAME, "severity")).select_by_value("")
    wait.until(lambda _: len(rows()) == expected)

    # A key's chart: its counts as bars, the expected count as a line, alerts marked.
    key = f"button.key[data-key='{KEY}']"
    wait.until(lambda _: browser.find_element(By.CSS_SELECTOR, key).click() or True)
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#chart svg rect.bar"))
    chart = browser.find_element(By.CSS_SELECTOR, "#chart svg")
    assert chart.find_elements(By.CSS_SELECTOR, "polyline.baseline")
    assert len(chart.find_elements(By.CSS_SELECTOR, "path.alert-mark")) >= 1
    assert browser.find_element(By.ID, "chart-title").text == KEY
    browser.execute_script("window.scrollTo(0, 0)")

    shot = tmp_path / "board.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    if target := os.environ.get("WATCHFLOOR_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(target) / "board.png")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
