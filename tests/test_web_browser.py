"""The dashboard in a real browser (Playwright + Debian's Chromium), screenshots in tests/output.

One journey: sign in, open a group, expand the tree, find an entity, open an account, set a
buying role, accept a duplicate in the review queue; then a Software BU member who cannot open
the Services BU's campaign.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import test_api_fixtures as fx
from tests.test_api_fixtures import PASSWORD, Api

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).parent / "output" / "screenshots"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]
duck_api = fx.duck_api


@pytest.fixture(scope="module")
def base_url(duck_api: Api) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(duck_api.client.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def new_page(browser, base_url: str, user: str):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page, errors


def shot(page, name: str) -> None:
    page.wait_for_timeout(400)  # chart animations
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_group_tree_account_and_duplicate_review(browser, base_url: str) -> None:
    page, errors = new_page(browser, base_url, "admin")
    page.goto(f"{base_url}/login")
    shot(page, "01_login")
    page.goto(f"{base_url}/")
    assert page.locator("h1").inner_text() == "Portfolio"
    shot(page, "02_home")

    page.click("nav >> text=Groups")
    page.click("text=Groupe Étoile SA")
    page.wait_for_url(f"{base_url}/groups/G1")
    page.wait_for_function("window.groupTree && window.groupTree.nodePosition('A2')")
    visible = page.evaluate("window.groupTree.visibleIds()")
    assert visible == ["G1", "A2", "A3"] or set(visible) == {"G1", "A2", "A3"}
    page.wait_for_timeout(500)
    pos = page.evaluate("window.groupTree.nodePosition('A2')")
    page.mouse.click(pos["x"], pos["y"])  # expand Étoile Énergie: its subsidiary and the shared JV appear
    page.wait_for_function("window.groupTree.visibleIds().includes('A4')")
    assert "J5" in page.evaluate("window.groupTree.visibleIds()")
    shot(page, "03_group_tree_expanded")

    page.fill("#tree-search", "réseaux")
    page.click("#tree-results >> text=Étoile Réseaux Services")
    page.wait_for_function("window.groupTree.visibleIds().includes('A4')")

    page.wait_for_timeout(500)
    pos = page.evaluate("window.groupTree.nodePosition('A4')")
    page.mouse.click(pos["x"], pos["y"])  # select: the panel shows the entity and a link to its 360
    assert "Étoile Réseaux Services" in page.locator("#tree-selected").inner_text()
    page.goto(f"{base_url}/groups/G1")
    page.wait_for_function("window.groupTree && window.groupTree.nodePosition('A2')")
    page.wait_for_timeout(500)
    pos = page.evaluate("window.groupTree.nodePosition('A2')")
    page.mouse.click(pos["x"], pos["y"])
    page.click("#open-account")
    page.wait_for_url(f"{base_url}/accounts/A2")
    assert "Étoile Énergie SAS" in page.locator("h1").inner_text()
    role = page.locator("select[aria-label='Buying role of Charlotte Logiciel']")
    role.select_option("economic_buyer")
    page.wait_for_selector("text=saved")
    shot(page, "04_account_360")

    page.click("nav >> text=Data quality")
    shot(page, "05_review_queue")
    page.click("text=Accept — merge")
    page.wait_for_selector("text=merged")
    shot(page, "06_duplicate_accepted")
    assert errors == []


def test_bu_member_cannot_open_another_bus_campaign(browser, base_url: str) -> None:
    page, errors = new_page(browser, base_url, "soft")
    page.click("nav >> text=Campaigns")
    assert page.locator("text=Printemps SaaS").count() == 1
    assert page.locator("text=Automne Services").count() == 0
    shot(page, "07_bu_member_campaigns")
    response = page.goto(f"{base_url}/campaigns/CMP-SERV")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert page.locator("text=Automne Services").count() == 0
    shot(page, "08_bu_member_denied")
    page.goto(f"{base_url}/accounts/A2")
    assert page.locator("text=Services: 1 deals, 2 activities, 1 contacts").count() == 1
    assert page.locator("text=Sébastien Servicier").count() == 0
    shot(page, "09_bu_member_account")
    assert errors == []
