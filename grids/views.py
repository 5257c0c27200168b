"""The grid map page and the small GeoJSON/JSON views it reads.

The map is used on phones on poor connections, so responses are lean: the
database writes each geometry's GeoJSON with coordinates rounded to 6 decimals
(~10 cm), features are joined as text without re-parsing, properties are
short, and each response carries an ETag: a version's cells and a layer's
polygons never change once written, so a reload costs a 304.
"""

import json

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page

from governance.models import Region, Role
from governance.views import role_required
from grids.models import Cell, CellAssignment, GridVersion
from grids.selectors import (
    active_version,
    cell_assignees,
    cell_crosswalk,
    current_layers_visible_to,
    layers_visible_to,
    version_cells,
)

GEOJSON_PRECISION = 6
# Immutable data: the browser may reuse it for an hour without asking.
CACHE_SECONDS = 3600
EVERY_ROLE = tuple(Role)


def feature_collection(items: list[dict], *, first: int = 1) -> dict:
    """Report items with a geometry as GeoJSON features (WGS84); ids count from `first` − 1 as the list numbers."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": first - 1 + index,
                "geometry": item["geometry"],
                "properties": {"kind": item["kind"], "department": item.get("department")},
            }
            for index, item in enumerate(items)
            if item.get("geometry")
        ],
    }


# --- The map page ----------------------------------------------------------------


@role_required(*EVERY_ROLE)
def grid_map(request):
    version = active_version()
    layers = list(current_layers_visible_to(request.user).order_by("department__code"))
    cell_url = reverse("grids:map-cell", kwargs={"pk": 0})
    config = {
        "cellsUrl": reverse("grids:map-cells") + f"?version={version.pk}" if version else None,
        "cellUrlPrefix": cell_url[: -len("0.json")],
        "layers": [
            {
                "code": layer.department.code,
                "url": reverse("grids:map-layer", args=[layer.department.code]) + f"?version={layer.version}",
            }
            for layer in layers
        ],
        "center": list(settings.MAP_DEFAULT_CENTER),
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "grids/map.html", {"version": version, "layers": layers, "config": config})


# --- Data for the map --------------------------------------------------------------


@gzip_page  # GeoJSON compresses ~5×: it matters to a phone on a weak signal
@role_required(*EVERY_ROLE)
def cells_geojson(request):
    """The cells of ?version= (default: the active one), optionally only those in ?bbox=w,s,e,n."""
    version = _requested_version(request)
    bbox = _bbox(request)
    # created_at too: SQLite hands a rolled-back insert's id to the next version.
    made = version.created_at.timestamp() if version else 0
    etag = f'"cells-{version.pk if version else 0}-{made}-{",".join(map(str, bbox or ()))}"'
    if not_modified := get_conditional_response(request, etag=etag):
        return not_modified
    cells = version_cells(version=version, bbox=bbox) if version else Cell.objects.none()
    rows = list(
        cells.annotate(geojson=AsGeoJSON("geometry", precision=GEOJSON_PRECISION)).values_list(
            "pk", "code", "community__code", "geojson"
        )
    )
    names = dict(Region.objects.filter(code__in={row[2] for row in rows}).values_list("code", "name"))
    features = (_feature(pk, geojson, {"code": code, "community": community}) for pk, code, community, geojson in rows)
    # "version" and "communities" are GeoJSON foreign members: the legend needs each name once, not per cell.
    extra = {"version": version.pk if version else None, "communities": names}
    return _geojson_response(features, extra, etag, immutable="version" in request.GET)


@gzip_page  # GeoJSON compresses ~5×: it matters to a phone on a weak signal
@role_required(*EVERY_ROLE)
def layer_geojson(request, department):
    """A department's current layer (or ?version=n), for those who may see that department's layers."""
    layers = layers_visible_to(request.user).filter(department__code=department)
    version = request.GET.get("version", "")
    if version:
        if not version.isdigit():
            raise Http404
        layer = layers.filter(version=int(version)).first()
    else:
        layer = layers.order_by("-version").first()
    if layer is None:
        raise Http404
    etag = f'"layer-{layer.pk}-{layer.imported_at.timestamp()}"'
    if not_modified := get_conditional_response(request, etag=etag):
        return not_modified
    rows = (
        layer.polygons.order_by("code")
        .annotate(geojson=AsGeoJSON("geometry", precision=GEOJSON_PRECISION))
        .values_list("pk", "code", "name", "repaired", "geojson")
    )
    features = (
        _feature(pk, geojson, {"code": code, "name": name} | ({"repaired": True} if repaired else {}))
        for pk, code, name, repaired, geojson in rows
    )
    extra = {"department": department, "version": layer.version}
    return _geojson_response(features, extra, etag, immutable=bool(version))


@role_required(*EVERY_ROLE)
def cell_detail(request, pk):
    """What the panel shows for one cell: code, community, area, crosswalk, assignees."""
    cell = get_object_or_404(Cell.objects.select_related("community", "version", "fallback_owner"), pk=pk)
    assignees = cell_assignees(cell)
    people = [(assignees.leader, CellAssignment.Duty.LEADER)] if assignees.leader else []
    people += [(user, CellAssignment.Duty.WORKER) for user in assignees.workers]
    return JsonResponse(
        {
            "id": cell.pk,
            "code": cell.code,
            "version": cell.version_id,
            "community": {"code": cell.community.code, "name": cell.community.name},
            "area_m2": round(cell.area_m2),
            "fallback_owner": str(cell.fallback_owner) if cell.fallback_owner else None,
            "crosswalk": [
                {
                    "department": entry.department.code,
                    "department_name": entry.department.name,
                    "polygon": entry.polygon.code,
                    "polygon_name": entry.polygon.name,
                    "share": round(entry.share * 100, 1),
                }
                for entry in cell_crosswalk(cell)
            ],
            "assignees": [
                {"name": user.get_full_name() or user.get_username(), "duty": duty, "duty_label": duty.label}
                for user, duty in people
            ],
        },
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


def _requested_version(request) -> GridVersion | None:
    value = request.GET.get("version", "")
    if not value:
        return active_version()
    if not value.isdigit():
        raise Http404
    return get_object_or_404(GridVersion, pk=int(value))


def _bbox(request) -> tuple[float, float, float, float] | None:
    value = request.GET.get("bbox", "")
    if not value:
        return None
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        west = east = south = north = None
    if west is None or not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise BadRequest(_("bbox must be west,south,east,north in degrees."))
    return west, south, east, north


def _feature(pk, geojson: str, properties: dict) -> str:
    return f'{{"type":"Feature","id":{pk},"geometry":{geojson},"properties":{_compact(properties)}}}'


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _geojson_response(features, extra: dict, etag: str, *, immutable: bool) -> HttpResponse:
    body = '{"type":"FeatureCollection",' + _compact(extra)[1:-1] + ',"features":[' + ",".join(features) + "]}"
    response = HttpResponse(body, content_type="application/geo+json")
    response["ETag"] = etag
    if immutable:
        # A named version's cells or layer's polygons never change.
        patch_cache_control(response, private=True, max_age=CACHE_SECONDS)
    else:
        # "The active version" or "the current layer" moves on: ask each time, a 304 is cheap.
        patch_cache_control(response, private=True, no_cache=True)
    return response
