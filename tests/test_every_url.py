"""Every URL the product serves refuses the stranger and the outsider (a login without a role).

The list is not written by hand: it is read from the URL resolver, admin
included, so a page added tomorrow is covered tomorrow. Each pattern is filled
with ids of real objects (a case, its photo, a cell, a layer, a version …)
so the view gets past "not found" to its permission check. Only the pages
meant for everyone are listed as public, each with its reason.
"""

import re

import pytest
from django.contrib.admin.sites import site
from django.urls import URLPattern, URLResolver, get_resolver

from cases import services
from cases.models import CasePhoto, Status
from tests.cases.test_photos import exif_block, jpeg, upload
from tests.cases.test_visibility import build_world

pytestmark = pytest.mark.django_db

# Pages every visitor may open, and why.
PUBLIC = {
    "login/": "the way in",
    "logout/": "the way out (POST; a GET is refused by Django)",
    "i18n/setlang/": "switching the language",
    "healthz": "health checks of load balancers: states only, no data",
    "admin/login/": "the admin's way in",
    "admin/logout/": "the admin's way out",
    "static/": "stylesheets and scripts",
}


def patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def concrete(route: str, ids: dict) -> str | None:
    """A URL for the route: converters filled from `ids` by the parameter's name; regex routes by hand."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")

    def fill(match):
        name = match.group("name")
        return str(ids.get(name, ids["pk"]))

    url = re.sub(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", fill, route)
    url = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", fill, url)
    if "(" in url or "[" in url or "\\" in url:
        return None
    return "/" + url


@pytest.fixture
def ids(personas):
    world = build_world(personas)
    case = world.case(Status.DISPATCHED)
    services.case_request_return(case=case, actor=personas["cg_admin"], reason="不属本部门")
    from cases.photos import case_photo_add

    photo = case_photo_add(case=case, kind=CasePhoto.Kind.BEFORE, upload=upload(jpeg(exif_block())),
                           user=personas["dispatcher"])  # fmt: skip
    cell = world.cells[5]
    return {
        "pk": case.pk, "id": case.pk, "object_id": case.pk, "step": "handle", "version": world.version.pk,
        "code": cell.code, "photo": photo.pk, "app_label": "cases", "url": "x", "path": "x",
        "content_type_id": 1, "uidb64": "x", "token": "x", "department": "CG", "format": "json",
    }  # fmt: skip


def urls(ids) -> list[str]:
    found = []
    for route in patterns():
        if any(route.startswith(p) or route == p for p in PUBLIC):
            continue
        url = concrete(route, ids)
        if url is not None:
            found.append(url)
    return sorted(set(found))


def test_the_list_is_complete_enough_to_mean_something(ids):
    found = urls(ids)
    for expected in ["/command/", f"/cases/{ids['pk']}/", "/measures/", "/api/cases/", "/grids/map/",
                     "/admin/cases/case/", "/admin/grids/cell/"]:  # fmt: skip
        assert expected in found, expected
    assert len(found) > 100


def refused(response) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    return response.status_code == 302 and "login" in response["Location"]


def test_strangers_are_refused_everywhere(client, ids):
    wrong = []
    for url in urls(ids):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if not refused(response):
                wrong.append((method, url, response.status_code))
    assert wrong == []


# What a login without a role may still open: who am I (it answers "no role").
ANY_LOGIN = {"/api/me/"}


def test_the_outsider_is_refused_everywhere(client, ids, personas):
    client.force_login(personas["outsider"])
    wrong = []
    for url in set(urls(ids)) - ANY_LOGIN:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if not refused(response):
                wrong.append((method, url, response.status_code))
    assert wrong == []


def test_every_admin_model_is_in_the_list(ids):
    found = urls(ids)
    for model in site._registry:
        changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert changelist in found, changelist


def test_staff_with_a_role_read_the_schema_and_its_swagger_ui(client, personas):
    client.force_login(personas["gridworker"])
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"swagger-ui" in page.content
