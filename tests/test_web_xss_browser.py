"""Stored XSS through chart tooltips and the Content-Security-Policy, in a real browser (issue 17.1).

Entity names carry HTML payloads; hovering the tree node, the whitespace heatmap cell and the
key-account scatter point must show the name as text (no element created from it, no script run),
and every page must load without a CSP violation in the console.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accountree.api import create_app
from accountree.api.auth import add_user
from accountree.build import BuildOptions, build
from accountree.ingest import import_bundle
from accountree.store import open_workspace
from tests.conftest import write

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).parent / "output" / "screenshots"
PASSWORD = "correct-horse-42"
PAYLOAD = "<img src=x onerror=window.__xss=1>"
SVG = "<svg onload=window.__xss=2>"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]

BUNDLE = {
    "products.csv": "product_id,name,family,list_price\nP1,Suite,software,1000\nP2,Services Pack,services,500\n",
    "accounts.csv": (
        "account_id,name,parent_id,country,industry,employees,annual_revenue,is_group_head\n"
        f"X1,Holding {PAYLOAD},,FR,Energy,5000,500000000,true\n"
        f"X2,Filiale {SVG},X1,FR,Energy,800,90000000,\n"
        "X3,Filiale Trois <b>bold</b>,X1,DE,Energy,300,40000000,\n"
        "X4,Petite Filiale,X2,FR,Energy,50,5000000,\n"
    ),
    "deals.csv": (
        "deal_id,account_id,product,stage,amount,gross_margin,close_date\n"
        "D1,X2,P1,won,120000.10,40000,2026-03-01\n"
        "D2,X3,P2,won,30000,9000,2025-05-01\n"
        "D3,X4,P1,won,10000,2000,2024-05-01\n"
        "D4,X1,P2,proposal,50000,,2027-01-15\n"
    ),
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    import uvicorn

    tmp = tmp_path_factory.mktemp("xss")
    for name, text in BUNDLE.items():
        write(tmp / "bundle" / name, text)
    ws = open_workspace(str(tmp / "ws.duckdb"))
    import_bundle(ws, [str(tmp / "bundle")])
    build(ws, BuildOptions(as_of=date(2026, 11, 23)))
    add_user(ws, "admin", "admin", PASSWORD, None)
    with TestClient(create_app(ws), raise_server_exceptions=False) as client:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        thread.join(timeout=10)
    ws.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def signed_in(browser, base_url: str, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.goto(f"{base_url}/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page, problems


def tooltip_html(page) -> str:
    """The HTML of the visible ECharts tooltip (a div ECharts fills with innerHTML)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('div')).filter(d =>
        d.style.position === 'absolute' && d.style.zIndex === '9999999' && d.style.display !== 'none')
        .map(d => d.innerHTML).join('\\n')""")


def assert_safe(page, problems: list[str]) -> None:
    html = tooltip_html(page)
    assert "&lt;img" in html or "&lt;svg" in html or "&lt;b&gt;" in html, html  # the name is shown, as text
    assert "<img" not in html and "<svg" not in html, html
    assert page.evaluate("window.__xss === undefined")
    assert page.evaluate("document.querySelectorAll('img[src=x], svg[onload]').length") == 0
    assert not [p for p in problems if "Content Security Policy" in p or "pageerror" in p], problems


def test_every_response_carries_a_strict_csp(base_url: str) -> None:
    import httpx

    for path in ("/login", "/static/charts.js", "/api/v1/openapi.json"):
        policy = httpx.get(base_url + path).headers.get("content-security-policy", "")
        for directive in ("script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in policy, (path, policy)
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_tree_tooltip_shows_a_payload_name_as_text(browser, base_url: str) -> None:
    page, problems = signed_in(browser, base_url)
    page.goto(f"{base_url}/groups/X1")
    page.wait_for_function("window.groupTree && window.groupTree.nodePosition('X2')")
    page.wait_for_timeout(400)
    for node in ("X1", "X2", "X3"):
        pos = page.evaluate(f"window.groupTree.nodePosition('{node}')")
        page.mouse.move(pos["x"], pos["y"] - page.evaluate("window.scrollY"))
        page.wait_for_timeout(300)
        assert_safe(page, problems)
    page.mouse.click(pos["x"], pos["y"] - page.evaluate("window.scrollY"))  # the selection panel (innerHTML)
    assert "<b>bold</b>" in page.locator("#tree-selected").inner_text()
    page.screenshot(path=str(SHOTS / "xss_tree.png"), full_page=True)
    # the whitespace heatmap: hover every cell's centre until a tooltip names an entity
    cells = page.evaluate("""() => { const c = echarts.getInstanceByDom(document.getElementById('chart-heat'));
        const box = document.getElementById('chart-heat').getBoundingClientRect();
        return c.getOption().series[0].data.map(d => { const [x, y] = c.convertToPixel({seriesIndex: 0}, [d[0], d[1]]);
          return {x: box.left + x, y: box.top + y}; }); }""")
    assert cells
    page.evaluate("document.getElementById('chart-heat').scrollIntoView()")
    page.wait_for_timeout(200)
    cells = page.evaluate("""() => { const c = echarts.getInstanceByDom(document.getElementById('chart-heat'));
        const box = document.getElementById('chart-heat').getBoundingClientRect();
        return c.getOption().series[0].data.map(d => { const [x, y] = c.convertToPixel({seriesIndex: 0}, [d[0], d[1]]);
          return {x: box.left + x, y: box.top + y}; }); }""")
    for cell in cells:
        page.mouse.move(cell["x"], cell["y"])
        page.wait_for_timeout(150)
        if "&lt;" in tooltip_html(page):
            break
    assert_safe(page, problems)


def test_key_account_scatter_tooltip_and_pages_without_csp_violation(browser, base_url: str) -> None:
    page, problems = signed_in(browser, base_url)
    page.goto(f"{base_url}/key-accounts")
    page.wait_for_timeout(500)
    points = page.evaluate("""() => { const el = document.getElementById('chart-matrix');
        const c = echarts.getInstanceByDom(el); const box = el.getBoundingClientRect(); const out = [];
        c.getOption().series.forEach((s, i) => s.data.forEach(d => { const [x, y] = c.convertToPixel({seriesIndex: i}, d.value);
          out.push({x: box.left + x, y: box.top + y, name: d.name}); })); return out; }""")
    payloads = [p for p in points if "<" in p["name"]]
    assert payloads, points
    page.mouse.move(payloads[0]["x"], payloads[0]["y"])
    page.wait_for_timeout(300)
    assert_safe(page, problems)
    for path in ("/", "/groups", "/accounts", "/accounts/X2", "/key-accounts", "/scoring", "/campaigns", "/quality",
                 "/search?q=filiale", "/groups/X1"):
        page.goto(base_url + path)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss === undefined"), path
    assert problems == [], problems
