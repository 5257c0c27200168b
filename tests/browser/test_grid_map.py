"""A grid worker opens the grid map on a phone and taps a cell (real chromium, no internet)."""

import pytest
from playwright.sync_api import sync_playwright

from governance.models import Role
from grids.models import CellAssignment
from tests.browser.test_login import CHROMIUM, CHROMIUM_ARGS
from tests.factories import PASSWORD, person
from tests.grids.factories import cell_centre, square_grid_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        yield context.new_page()
        browser.close()


def pixel_of(page, lng: float, lat: float) -> tuple[float, float]:
    """Where (lng, lat) is on screen, asked of the OpenLayers map the page exposes."""
    return page.evaluate(
        """([lng, lat]) => {
            const map = window.gridMap;
            map.renderSync();
            const [x, y] = map.getPixelFromCoordinate(ol.proj.fromLonLat([lng, lat]));
            const box = map.getTargetElement().getBoundingClientRect();
            return [box.left + x, box.top + y];
        }""",
        [lng, lat],
    )


def test_grid_worker_taps_a_cell_on_the_map(live_server, page, artifacts_dir):
    version = square_grid_version()
    worker = person("gridworker", Role.GRID_WORKER, full_name="王网格员")
    CellAssignment.objects.create(
        cell=version.cells.get(code="330211001001005"), user=worker, duty=CellAssignment.Duty.WORKER
    )
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)

    page.goto(live_server.url + "/grids/map/")
    page.wait_for_url("**/login/**")
    page.fill("#id_username", "gridworker")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/grids/map/")

    page.wait_for_function("window.gridMap && window.gridMap.get('cellsLoaded') === true", timeout=15_000)
    canvas = page.locator("#grid-map canvas").first
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    assert box["width"] >= 370 and box["height"] > 400  # the map fills the phone below the top bar
    assert page.evaluate("window.gridMap.getLayers().item(0).getSource().getFeatures().length") == 9

    x, y = pixel_of(page, *cell_centre(5))
    assert 0 < x < PHONE["width"] and 0 < y < PHONE["height"]
    page.touchscreen.tap(x, y)
    panel = page.locator("#cell-panel")
    panel.wait_for(state="visible")
    assert page.locator("#cell-code").inner_text() == "330211001001005"
    page.wait_for_function("!document.querySelector('[data-field=area]').textContent.includes('…')")
    assert "湖滨社区" in panel.inner_text()
    assert "CG-0005" in panel.inner_text() and "100" in panel.inner_text()
    assert "王网格员" in panel.inner_text()
    # Chinese by default, in a font that renders (the brand has a real width).
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    assert "网格" in page.locator(".topbar .brand").inner_text()
    assert page.locator(".topbar .brand").bounding_box()["width"] > 40
    # The sheet sits at the bottom of the phone and nothing is wider than the screen.
    sheet = panel.bounding_box()
    assert sheet["y"] + sheet["height"] == pytest.approx(PHONE["height"], abs=2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts_dir / "grid-map.png"))

    page.locator(".gridmap-close").tap()
    panel.wait_for(state="hidden")
    assert external == []
