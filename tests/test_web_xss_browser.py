"""Stored XSS through chart tooltips and the Content-Security-Policy, in a real browser (issue 17.1),
and the consolidated figures, sorting, CSV and the offline API docs (issue 20).

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


def test_groups_tree_and_key_accounts_show_the_kpi_tables_consolidated_figures(browser, base_url: str) -> None:
    """Figures read in the browser equal the KPI tables (group_kpis), not the head entity's own."""
    from accountree.web.pages import money

    page, problems = signed_in(browser, base_url)
    gk = page.evaluate("""async () => (await (await fetch('/api/v1/groups/X1')).json()).kpis.data""")
    assert gk["revenue_cy"] == 120000.1 and gk["revenue_py1"] == 30000  # X2's 2026 deal, X3's 2025 one
    page.goto(f"{base_url}/groups")
    row = page.locator('tr[data-group="X1"]')
    assert float(row.locator('td[data-col="revenue_cy"]').get_attribute("data-sort")) == pytest.approx(gk["revenue_cy"])
    assert float(row.locator('td[data-col="revenue_py1"]').get_attribute("data-sort")) == pytest.approx(gk["revenue_py1"])
    assert row.locator('td[data-col="revenue_cy"]').inner_text() == money(gk["revenue_cy"])
    assert "customer" in row.inner_text()
    page.screenshot(path=str(SHOTS / "groupview_groups.png"), full_page=True)
    page.goto(f"{base_url}/groups/X1")
    page.wait_for_function("window.groupTree && window.groupTree.nodePosition('X2')")
    labels = page.evaluate("""() => { const s = window.groupTree.chart.getOption().series[0];
        const out = {}; const walk = n => { if (n.id) out[n.id] = n.label && n.label.formatter; (n.children || []).forEach(walk); };
        walk(s.data[0]); return out; }""")
    assert f"group {money(gk['revenue_cy'])}" in labels["X1"]
    assert "own 0 €" in labels["X1"] and "2 children" in labels["X1"] and "3 below" in labels["X1"]
    pnl = page.locator("#group-pnl tr[data-year=cy]").inner_text()
    assert pnl.startswith("2026") and money(gk["revenue_cy"]) in pnl
    page.goto(f"{base_url}/key-accounts")
    unit = page.locator('tr[data-unit="X1"]')
    assert "KAM tier" in unit.inner_text() and "group · 4 entities" in unit.inner_text()
    assert float(unit.locator("td.num").nth(1).get_attribute("data-sort")) == pytest.approx(gk["revenue_cy"])
    assert page.locator('tr[data-unit="X2"]').count() == 0  # an entity of the group is not a key account of its own
    for width in (1280, 1920):  # no table wider than its card
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/groups", "/key-accounts", "/alerts", "/groups/X1", "/accounts/X2", "/"):
            page.goto(base_url + path)
            wide = page.evaluate("""() => Array.from(document.querySelectorAll('table.data')).filter(t => {
                const w = t.closest('.wide, .scroll, .card'); return w && t.offsetWidth > w.clientWidth + 1; }).length""")
            assert wide == 0, (width, path)
    assert problems == [], problems


def test_sorting_and_csv_download_on_a_table(browser, base_url: str) -> None:
    page, problems = signed_in(browser, base_url)
    page.goto(f"{base_url}/groups/X1")
    table = page.locator("#group-pnl")
    table.locator("th", has_text="Revenue").click()  # client-side sort: ascending revenue
    years = [r.get_attribute("data-year") for r in table.locator("tbody tr").all()]
    assert years[-1] == "cy"  # 120 k€, the largest
    with page.expect_download() as download:
        page.locator(".table-tools .csv").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Year,Revenue")
    assert problems == []


def test_api_docs_render_with_the_network_blocked(browser, base_url: str) -> None:
    page = browser.new_page()
    outside: list[str] = []

    def block(route) -> None:
        if not route.request.url.startswith(base_url):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", block)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base_url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
    assert page.locator(".opblock").count() > 10 and "accountree" in page.locator(".info").inner_text()
    assert outside == []
    page.screenshot(path=str(SHOTS / "api_docs_offline.png"))
    # ReDoc, vendored likewise (/redoc leads there): every operation listed, under the CSP
    page.goto(f"{base_url}/redoc")
    assert page.url == f"{base_url}/api/v1/redoc"
    page.locator("h1").filter(has_text="accountree").first.wait_for(timeout=30000)
    page.get_by_text("/api/v1/groups/{group_id}/tree").first.wait_for(timeout=30000)
    text = page.locator("body").text_content()
    assert "/api/v1/accounts/{account_id}" in text and "/api/v1/key-accounts" in text
    # ReDoc's "API docs by Redocly" badge is an image on its CDN: the CSP (img-src 'self') stops it
    # in the browser, so nothing leaves it; no other error
    problems = [p for p in problems if not ("cdn.redoc.ly" in p and "Content Security Policy" in p)]
    assert outside == [] and problems == [], (outside, problems)
    page.screenshot(path=str(SHOTS / "api_redoc_offline.png"), full_page=False)
