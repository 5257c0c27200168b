"""A real browser (Debian's chromium) logs in and sees Chinese text rendered."""

import pytest
from playwright.sync_api import sync_playwright

from governance.models import Role
from tests.factories import PASSWORD, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # A phone: the grid worker's device.
        context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN", is_mobile=True)
        yield context.new_page()
        browser.close()


def test_grid_worker_logs_in_on_a_phone(live_server, page, artifacts_dir):
    person("gridworker", Role.GRID_WORKER)
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "登录"
    page.fill("#id_username", "gridworker")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/workspace/grid/")
    assert page.locator("h1").inner_text() == "我的网格"
    assert "湖滨社区" in page.content()
    # The CJK font is installed and used: the heading has a real width.
    assert page.locator("h1").bounding_box()["width"] > 40
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(artifacts_dir / "grid-worker-phone.png"), full_page=True)
    assert external == []
