"""The service on the default model: the seed's analogy over HTTP, and the explorer page in a
real browser (Debian's headless Chromium driven by selenium), with screenshots saved in
``test-artifacts/`` (git-ignored) for a person to look at.

The default model trains once on first use (about 3 minutes) and is cached; the suite's
``test_default_model.py`` has usually trained it already.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedkit.default import load_default
from embedkit.session import QuerySession

from .serving import Server, running_server, same_answers

pytest.importorskip("fastapi")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def default_session() -> QuerySession:
    load_default(progress=False)  # trains and caches it if this is the first use
    return QuerySession.open(None)


@pytest.fixture(scope="module")
def server(default_session: QuerySession) -> Iterator[Server]:
    with running_server() as running:  # no --model: the default model
        yield running
        assert "Traceback" not in running.stderr(), running.stderr()


def test_spain_madrid_france_answers_paris_over_http(server: Server, default_session: QuerySession) -> None:
    reply = server.get("/analogy", {"a": "spain", "b": "madrid", "c": "france"})
    assert reply.status == 200
    answers = reply.json()["answers"]
    assert answers[0]["word"] == "paris"
    expected = default_session.analogy("spain", "madrid", "france")
    assert same_answers([(a["word"], a["score"]) for a in answers], expected)
    assert server.get("/info").json()["name"] == "the default model"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium and chromium-driver (see .ci/run)")
        pytest.skip("needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="embedkit-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: object, condition: object, timeout: float = 30) -> object:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _screenshot(driver: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), path
    return path


def _answers(driver: object) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#results .word")]


def _plotted(driver: object) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.get_attribute("data-word") for e in driver.find_elements(By.CSS_SELECTOR, "#plot g.point")]


def test_the_page_shows_neighbours_and_their_picture(
    server: Server, browser: object, default_session: QuerySession
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    _wait(browser, lambda d: "words" in d.find_element(By.ID, "model").text)
    assert "the default model" in browser.find_element(By.ID, "model").text
    box = browser.find_element(By.ID, "word")
    box.send_keys("Paris\n")  # found as paris, as the command line would
    expected = [w for w, _ in default_session.similar("paris", k=10)]
    _wait(browser, lambda d: _answers(d) == expected)
    _wait(browser, lambda d: len(_plotted(d)) == 11)
    assert set(_plotted(browser)) == {"paris", *expected}
    assert "Neighbours of “paris”" in browser.find_element(By.ID, "answers-title").text
    assert "PCA" in browser.find_element(By.ID, "map-caption").text
    assert not browser.find_element(By.ID, "message").is_displayed()
    _screenshot(browser, "serve-neighbours.png")


def test_the_page_answers_the_seed_analogy(server: Server, browser: object) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    for field, word in zip("abc", ("spain", "madrid", "france")):
        browser.find_element(By.ID, field).send_keys(word)
    browser.find_element(By.ID, "analogy-go").click()
    _wait(browser, lambda d: _answers(d)[:1] == ["paris"])
    _wait(browser, lambda d: {"spain", "madrid", "france", "paris"} <= set(_plotted(d)))
    best = browser.find_element(By.CSS_SELECTOR, "#plot g.best")
    assert best.get_attribute("data-word") == "paris"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#plot line")) == 2  # spain → madrid, france → paris
    assert "spain → madrid as france → paris" in browser.find_element(By.ID, "map-caption").text
    _screenshot(browser, "serve-analogy.png")


def test_the_page_names_an_unknown_word(server: Server, browser: object) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    for field, word in zip("abc", ("spain", "qwxzzy", "france")):
        browser.find_element(By.ID, field).send_keys(word)
    browser.find_element(By.ID, "c").send_keys("\n")
    _wait(browser, lambda d: d.find_element(By.ID, "message").is_displayed())
    message = browser.find_element(By.ID, "message")
    assert "Unknown word: “qwxzzy” is not in the model's vocabulary" in message.text
    assert browser.find_element(By.ID, "b").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "a").get_attribute("aria-invalid") is None
    assert _answers(browser) == [] and _plotted(browser) == []
    _screenshot(browser, "serve-unknown-word.png")
    # the page recovers: a known word clears the message
    box = browser.find_element(By.ID, "word")
    box.send_keys("london\n")
    _wait(browser, lambda d: len(_answers(d)) == 10 and not d.find_element(By.ID, "message").is_displayed())


def test_the_page_and_the_docs_fetch_nothing_from_outside(server: Server, browser: object) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/docs")
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")) >= 8)
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/similar", "/analogy", "/batch", "/info", "/health"} <= paths
    _screenshot(browser, "serve-docs.png")
    browser.get(server.url + "/#similar=paris")
    _wait(browser, lambda d: len(_answers(d)) == 10)
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(server.url) for url in loaded), loaded
