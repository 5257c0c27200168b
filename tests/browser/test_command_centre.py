"""A dispatcher works the queue with the keyboard and sees open cases on the map (real chromium, no internet)."""

import pytest
from playwright.sync_api import sync_playwright

from cases.models import Case, Status
from tests.browser.test_login import CHROMIUM, CHROMIUM_ARGS
from tests.cases.test_visibility import build_world
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def log_in(page, live_server, path):
    page.goto(live_server.url + path)
    page.wait_for_url("**/login/**")
    page.fill("#id_username", "dispatcher")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**" + path)


def test_a_dispatcher_registers_and_dispatches_from_the_keyboard(reference_data, personas, live_server, page,
                                                                 artifacts_dir):  # fmt: skip
    world = build_world(personas)
    case = world.case(Status.REPORTED)
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)
    log_in(page, live_server, "/command/")
    assert case.number in page.locator("table.rows").inner_text()

    page.keyboard.press("j")  # the first row; Enter opens it
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case.pk}/")
    page.focus("#id_register-category")
    page.select_option("#id_register-category", str(world.cg.pk))
    page.focus("#id_register-category")
    page.keyboard.press("Tab")  # severity
    page.keyboard.press("Tab")  # department
    page.keyboard.press("Tab")  # the button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "立案" in page.locator(".notice").inner_text()
    assert Case.objects.get(pk=case.pk).status == Status.REGISTERED

    page.locator("form[action$='/dispatch/'] button").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    assert "派遣" in page.locator(".timeline").inner_text()
    page.screenshot(path=str(artifacts_dir / "command-case.png"), full_page=True)
    assert external == []


def test_the_map_shows_open_cases_by_severity(reference_data, personas, live_server, page, artifacts_dir):
    world = build_world(personas)
    world.case(Status.DISPATCHED)
    world.case(Status.REPORTED)
    world.case(Status.CLOSED)
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)
    log_in(page, live_server, "/command/map/")
    page.wait_for_selector("#case-map canvas")
    page.wait_for_function(
        "document.querySelectorAll('#severity-filter input').length === 4 && window.ol !== undefined"
    )
    legend = page.locator("#severity-filter").inner_text()
    assert "一般" in legend and "(2)" in legend
    page.screenshot(path=str(artifacts_dir / "command-map.png"))
    assert page.locator("#case-map-status").inner_text() == ""
    assert external == []
