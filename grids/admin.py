"""Admin of the grids app.

Layers are imported, never edited: a correction is a new import, so a grid
version always shows what it was built from. Versions come from unification
runs and are activated here, never edited. Cells are read-only; only who
answers for a cell (assignments) is managed by hand.
"""

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.admin import OfflineGISAdmin
from governance.models import Region
from grids import import_jobs, services
from grids.forms import CellAssignmentForm, LayerImportForm
from grids.models import Cell, CellAssignment, CrosswalkEntry, GridVersion, Layer, LayerImportJob, LayerPolygon
from grids.selectors import conflict_items_visible_to, layer_import_departments, layers_visible_to
from grids.views import feature_collection

KIND_LABELS = {
    "self_overlap": _("overlap inside one layer"),
    "gap": _("gap in a department's layer"),
    "sliver_merged": _("sliver merged into a neighbour"),
    "outside": _("outside the jurisdiction"),
    "repaired": _("invalid geometry repaired"),
    "no_geometry": _("feature without geometry (skipped)"),
    "not_polygon": _("not a polygon (skipped)"),
    "empty": _("polygon without area (skipped)"),
    "missing_code": _("missing code (numbered)"),
    "duplicate_code": _("duplicate code (renamed)"),
}
CONFLICT_PAGE_SIZE = 200
REPORT_ROWS = 500  # of a layer's import report on its page; the JSON download has them all


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


class MapMedia:
    """Read-only maps of the admin pages: the vendored OpenLayers, never a CDN."""

    css = {"all": ("vendor/ol/ol.css", "css/grids.css")}
    js = ("vendor/ol/ol.js", "js/grids/style.js", "js/grids/feature-map.js")


def read_only_map(element_id: str, layers: list[dict]) -> str:
    config = {
        "layers": layers,
        "center": list(settings.MAP_DEFAULT_CENTER),
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
    }
    context = {"map_id": element_id, "config_id": f"{element_id}-config", "config": config}
    return render_to_string("admin/grids/_map.html", context)


def summary_table(summary: dict) -> str:
    if not summary:
        return "—"
    rows = format_html_join(
        "",
        '<tr><td><span class="grids-swatch kind-{}"></span>{}</td><td class="grids-num">{}</td></tr>',
        ((kind, kind_label(kind), count) for kind, count in summary.items()),
    )
    return format_html(
        '<table class="grids-summary"><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
        gettext("kind"),
        gettext("count"),
        rows,
    )


# --- Layers ----------------------------------------------------------------------------


class ReadOnlyAdmin:
    """What an import or the engine wrote is history: viewed in the admin, never edited there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Layer)
class LayerAdmin(OfflineGISAdmin):
    list_display = [
        "__str__",
        "department",
        "version",
        "source_name",
        "source_format",
        "imported_at",
        "imported_by",
        "polygon_count",
        "repaired_count",
    ]
    list_filter = [("department", admin.RelatedOnlyFieldListFilter), "source_format"]
    search_fields = ["source_name", "department__code", "department__name"]
    list_select_related = ["department", "imported_by"]
    fields = [
        "department",
        "version",
        "source_name",
        "source_format",
        "source_srs",
        "imported_at",
        "imported_by",
        "polygon_count",
        "report_summary",
        "report_items",
        "polygon_map",
        "grid_versions_built",
    ]
    readonly_fields = fields
    Media = MapMedia

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .annotate(n_polygons=Count("polygons"), n_repaired=Count("polygons", filter=Q(polygons__repaired=True)))
        )
        return layers_visible_to(request.user, queryset)

    # Immutable: a correction is the next import, never an edit.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        report = path(
            "<path:object_id>/report.json", self.admin_site.admin_view(self.report_json), name="grids_layer_report"
        )
        return [report, *super().get_urls()]

    @admin.display(description=_("polygons"), ordering="n_polygons")
    def polygon_count(self, obj):
        url = reverse("admin:grids_layerpolygon_changelist") + f"?layer__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.n_polygons)

    @admin.display(description=_("repaired"), ordering="n_repaired")
    def repaired_count(self, obj):
        return obj.n_repaired

    @admin.display(description=_("import report"))
    def report_summary(self, obj):
        report = obj.report or {}
        facts = format_html(
            '<p>{}: {} · {}: {} · <a href="{}" download>{}</a></p>',
            gettext("features read"),
            report.get("features", "—"),
            gettext("skipped"),
            report.get("skipped", 0),
            reverse("admin:grids_layer_report", args=[obj.pk]),
            gettext("Download the report (JSON)"),
        )
        return facts + summary_table(report.get("summary", {}))

    @admin.display(description=_("report items"))
    def report_items(self, obj):
        items = (obj.report or {}).get("items", [])
        if not items:
            return gettext("Nothing to report.")
        more = len(items) - REPORT_ROWS
        items = items[:REPORT_ROWS]
        rows = format_html_join(
            "",
            '<tr><td><span class="grids-swatch kind-{}"></span>{}</td><td>{}</td><td class="grids-num">{}</td>'
            "<td>{}</td></tr>",
            (
                (
                    i["kind"],
                    kind_label(i["kind"]),
                    ", ".join(map(str, i.get("polygons") or [])),
                    i.get("area_m2") or "",
                    i.get("message", ""),
                )
                for i in items
            ),
        )
        if more > 0:
            rows += format_html(
                '<tr><td colspan="4">{}</td></tr>', gettext("… and %(n)s more in the JSON report.") % {"n": more}
            )
        return format_html(
            '<table class="grids-items"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            gettext("kind"),
            gettext("polygons"),
            gettext("area (m²)"),
            gettext("note"),
            rows,
        )

    @admin.display(description=_("map"))
    def polygon_map(self, obj):
        polygons = reverse("grids:map-layer", args=[obj.department.code]) + f"?version={obj.version}"
        return read_only_map(
            f"layer-map-{obj.pk}",
            [
                {"url": polygons, "style": "polygons", "fit": True},
                {"data": feature_collection((obj.report or {}).get("items", [])), "style": "conflicts"},
            ],
        )

    @admin.display(description=_("grid versions built from it"))
    def grid_versions_built(self, obj):
        versions = obj.grid_versions.order_by("-pk")
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                ((reverse("admin:grids_gridversion_change", args=[v.pk]), v) for v in versions),
            )
            or "—"
        )

    def report_json(self, request, object_id):
        layer = get_object_or_404(self.get_queryset(request), pk=object_id)
        response = JsonResponse(layer.report or {}, json_dumps_params={"ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="layer-{layer.department.code}-v{layer.version}.json"'
        return response

    def add_view(self, request, form_url="", extra_context=None):
        """The one way in: upload a file, the engine imports it as the department's next version."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = LayerImportForm(
            request.POST or None, request.FILES or None, departments=layer_import_departments(request.user)
        )
        if request.method == "POST" and form.is_valid():
            job = self._queue(request, form.cleaned_data)
            messages.success(
                request,
                gettext("%(file)s is queued for import; this page shows when it is done.") % {"file": job.source_name},
            )
            return redirect("admin:grids_layerimportjob_change", job.pk)
        context = self.admin_site.each_context(request) | {
            "opts": self.opts,
            "form": form,
            "title": gettext("Import a departmental layer"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/grids/layer/import.html", context)

    def _queue(self, request, data) -> LayerImportJob:
        # A worker imports the file, never this process: a library crash on a hostile file costs a task.
        return import_jobs.layer_import_job_create(
            department=data["department"], upload=data["file"], code_field=data["code_field"],
            name_field=data["name_field"], user=request.user,
        )  # fmt: skip


@admin.register(LayerImportJob)
class LayerImportJobAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Uploads and what became of them; seen by whoever may import layers for the job's department."""

    list_display = ["__str__", "department", "status", "created_at", "created_by", "finished_at", "layer"]
    list_filter = ["status"]
    list_select_related = ["department", "created_by", "layer__department"]
    fields = ["department", "source_name", "code_field", "name_field", "status", "outcome", "attempts",
              "created_by", "created_at", "started_at", "finished_at"]  # fmt: skip
    readonly_fields = fields

    class Media:
        css = {"all": ("css/grids.css",)}

    def get_queryset(self, request):
        departments = layer_import_departments(request.user)
        return super().get_queryset(request).filter(department__in=departments)

    # Whoever may import a layer may follow the import; no separate permission to hand out.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("grids.add_layer")

    def has_module_permission(self, request):
        return request.user.has_perm("grids.add_layer")

    @admin.display(description=_("outcome"))
    def outcome(self, obj):
        if obj.status == LayerImportJob.Status.FAILED:
            return format_html('<p class="errornote">{}</p>', obj.error)
        if obj.status != LayerImportJob.Status.DONE:
            return gettext("Waiting for a worker; reload this page to see the result.")
        if obj.layer is None:
            return "—"
        report = obj.layer.report or {}
        link = format_html(
            '<p><a href="{}">{}</a> · {}: {} · {}: {}</p>',
            reverse("admin:grids_layer_change", args=[obj.layer.pk]), obj.layer, gettext("features read"),
            report.get("features", "—"), gettext("skipped"), report.get("skipped", 0),
        )  # fmt: skip
        warnings = format_html_join("", '<p class="warning">{}</p>', ((w,) for w in report.get("warnings") or []))
        return link + warnings + summary_table(report.get("summary", {}))


@admin.register(LayerPolygon)
class LayerPolygonAdmin(ReadOnlyAdmin, OfflineGISAdmin):
    list_display = ["code", "name", "layer", "repaired"]
    list_filter = ["repaired", ("layer", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name"]
    list_select_related = ["layer__department"]
    fields = ["layer", "code", "name", "repaired", "polygon_map"]
    readonly_fields = fields
    Media = MapMedia

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("layer__department")
        return queryset.filter(layer__in=layers_visible_to(request.user))

    @admin.display(description=_("map"))
    def polygon_map(self, obj):
        return read_only_map(f"polygon-map-{obj.pk}", [{"data": single_feature(obj), "style": "focus", "fit": True}])


def single_feature(obj) -> dict:
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": json.loads(obj.geometry.json)}]}


# --- Grid versions ------------------------------------------------------------------


@admin.register(GridVersion)
class GridVersionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "created_at",
        "created_by",
        "activated_at",
        "retired_at",
        "cell_count",
        "layer_count",
        "conflict_count",
        "conflict_link",
    ]
    list_filter = ["status"]
    list_select_related = ["created_by"]
    actions = ["activate_selected"]
    fields = [
        "status",
        "created_at",
        "created_by",
        "activated_at",
        "retired_at",
        "input_layers",
        "sliver_area_m2",
        "input_digest",
        "cell_count",
        "conflict_summary",
    ]
    readonly_fields = fields

    class Media:
        css = {"all": ("css/grids.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_layers=Count("layers"))

    def has_add_permission(self, request):
        return False  # versions come from a unification run, not a form

    def has_change_permission(self, request, obj=None):
        return False  # a draft is a run's output; published versions never change

    def has_delete_permission(self, request, obj=None):
        published = obj is not None and obj.is_published
        return not published and super().has_delete_permission(request, obj)

    def has_activate_permission(self, request, obj=None):
        return request.user.has_perm("grids.change_gridversion") and (obj is None or not obj.is_published)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A draft's cells and crosswalk go with it (they have no delete permission of their own);
        # what counts is the permission on each version, published ones refusing.
        own = str(self.opts.verbose_name)
        return deleted, counts, {p for p in perms_needed if str(p) == own}, protected

    def get_urls(self):
        return [
            path(
                "<path:object_id>/activate/",
                self.admin_site.admin_view(self.activate_view),
                name="grids_gridversion_activate",
            ),
            path(
                "<path:object_id>/conflicts/",
                self.admin_site.admin_view(self.conflicts_view),
                name="grids_gridversion_conflicts",
            ),
            path(
                "<path:object_id>/conflicts.json",
                self.admin_site.admin_view(self.conflicts_json),
                name="grids_gridversion_conflicts_json",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("input layers"), ordering="n_layers")
    def layer_count(self, obj):
        return obj.n_layers

    @admin.display(description=_("conflicts"))
    def conflict_count(self, obj):
        return sum((obj.conflicts or {}).get("summary", {}).values())

    @admin.display(description=_("conflict report"))
    def conflict_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:grids_gridversion_conflicts", args=[obj.pk]), gettext("open")
        )

    @admin.display(description=_("input layers"))
    def input_layers(self, obj):
        return (
            format_html_join(
                ", ",
                "{}",
                ((layer,) for layer in obj.layers.select_related("department").order_by("department__code")),
            )
            or "—"
        )

    @admin.display(description=_("conflict report"))
    def conflict_summary(self, obj):
        link = format_html(
            '<p><a href="{}">{}</a></p>',
            reverse("admin:grids_gridversion_conflicts", args=[obj.pk]),
            gettext("Open the conflict report with its map"),
        )
        return summary_table((obj.conflicts or {}).get("summary", {})) + link

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra_context = (extra_context or {}) | {
            "can_activate": version is not None and self.has_activate_permission(request, version),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Activate the selected draft"), permissions=["activate"])
    def activate_selected(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, gettext("Select exactly one draft to activate."))
            return
        self._activate(request, queryset.get())

    def activate_view(self, request, object_id):
        version = self._version_or_404(request, object_id)
        if not self.has_activate_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._activate(request, version)
            return redirect("admin:grids_gridversion_change", version.pk)
        context = self.admin_site.each_context(request) | {
            "opts": self.opts,
            "version": version,
            "active": GridVersion.objects.active().first(),
            "title": gettext("Activate %(version)s?") % {"version": version},
        }
        return TemplateResponse(request, "admin/grids/gridversion/activate.html", context)

    def _activate(self, request, version: GridVersion) -> None:
        try:
            version = services.grid_version_activate(version=version, user=request.user)
        except services.GridVersionError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, gettext("%(version)s is now active: lookups and new cases use it.") % {"version": version}
            )

    def conflicts_view(self, request, object_id):
        version = self._version_or_404(request, object_id)
        report = version.conflicts or {}
        items = conflict_items_visible_to(request.user, version)
        kinds = sorted(set(items.values_list("kind", flat=True).distinct()))
        kind = request.GET.get("kind", "")
        shown = items.filter(kind=kind) if kind else items
        page = Paginator(shown, CONFLICT_PAGE_SIZE).get_page(request.GET.get("page"))
        # The map draws the page's items only: a messy city reports tens of thousands.
        page_items = [row.as_item() for row in page.object_list]
        context = self.admin_site.each_context(request) | {
            "opts": self.opts,
            "version": version,
            "title": gettext("Conflict report of %(version)s") % {"version": version},
            "summary": [(k, kind_label(k), n) for k, n in (report.get("summary") or {}).items()],
            "total": sum((report.get("summary") or {}).values()),
            "kinds": [(k, kind_label(k)) for k in kinds],
            "kind": kind,
            "rows": conflict_rows(page, page_items),
            "page": page,
            "scoped": items.count() != version.conflict_items.count(),
            "map": read_only_map(
                "conflict-map",
                [
                    {"url": reverse("grids:map-cells") + f"?version={version.pk}", "style": "cells", "fit": True},
                    {
                        "data": feature_collection(page_items, first=page.start_index() if page.paginator.count else 1),
                        "style": "conflicts",
                        "fit": True,
                        "numbered": True,
                    },
                ],
            ),
            "media": self.media + forms.Media(css=MapMedia.css, js=MapMedia.js),
        }
        return TemplateResponse(request, "admin/grids/gridversion/conflicts.html", context)

    def conflicts_json(self, request, object_id):
        version = self._version_or_404(request, object_id)
        report = version.conflicts or {}
        body = {
            "version": version.pk,
            "status": version.status,
            "summary": report.get("summary", {}),
            "items": [row.as_item() for row in conflict_items_visible_to(request.user, version).iterator()],
        }
        response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="grid-version-{version.pk}-conflicts.json"'
        return response

    def _version_or_404(self, request, object_id) -> GridVersion:
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        return version


def conflict_rows(page, items: list[dict]) -> list[dict]:
    """The page's items, numbered across pages as on the map, with community names and kind labels."""
    codes = {item.get("community") for item in items if item.get("community")}
    communities = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    first = page.start_index() if page.paginator.count else 1
    return [
        item
        | {
            "number": first + n,
            "kind_label": kind_label(item["kind"]),
            "community_name": communities.get(item.get("community"), ""),
        }
        for n, item in enumerate(items)
    ]


# --- Cells ----------------------------------------------------------------------------


class CrosswalkInline(admin.TabularInline):
    model = CrosswalkEntry
    fields = ["department", "polygon_code", "polygon_name", "share_percent"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("department", "polygon")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("polygon code"))
    def polygon_code(self, obj):
        return obj.polygon.code

    @admin.display(description=_("polygon name"))
    def polygon_name(self, obj):
        return obj.polygon.name

    @admin.display(description=_("share"))
    def share_percent(self, obj):
        return f"{obj.share * 100:.1f} %"


class AssignmentInline(admin.TabularInline):
    model = CellAssignment
    fields = ["user", "duty", "assigned_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cell)
class CellAdmin(ReadOnlyAdmin, OfflineGISAdmin):
    list_display = ["code", "community", "version", "area", "fallback_owner"]
    list_filter = ["version__status", "version", ("community", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code"]
    list_select_related = ["community", "version", "fallback_owner"]
    fields = ["code", "version", "community", "area", "fallback_owner", "assign", "cell_map"]
    readonly_fields = fields
    inlines = [CrosswalkInline, AssignmentInline]
    Media = MapMedia

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("version", "community")

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if request.user.has_perm("grids.add_cellassignment") else [f for f in fields if f != "assign"]

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "cellassignment":
            # Picking a cell to assign: cells of the active version and of drafts only.
            queryset = queryset.filter(version__status__in=CellAssignmentForm.ASSIGNABLE).order_by("code", "-version")
        return queryset, distinct

    @admin.display(description=_("area (m²)"), ordering="area_m2")
    def area(self, obj):
        return f"{obj.area_m2:,.0f}"

    @admin.display(description=_("assignments"))
    def assign(self, obj):
        if obj.version.status == GridVersion.Status.RETIRED:
            return gettext("Retired version: assignments are history.")
        url = reverse("admin:grids_cellassignment_add") + f"?cell={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("Assign a grid leader or grid worker"))

    @admin.display(description=_("map"))
    def cell_map(self, obj):
        return read_only_map(f"cell-map-{obj.pk}", [{"data": single_feature(obj), "style": "focus", "fit": True}])


# --- Assignments ----------------------------------------------------------------------


class CellAutocompleteView(AutocompleteJsonView):
    """Cells of several versions share codes: the choices say which version."""

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": cell_label(obj)}


def cell_label(cell: Cell) -> str:
    return f"{cell.code} · {cell.version}"


class CellAutocomplete(AutocompleteSelect):
    url_name = "%s:grids_cellassignment_cell_autocomplete"


@admin.register(CellAssignment)
class CellAssignmentAdmin(admin.ModelAdmin):
    form = CellAssignmentForm
    list_display = ["cell", "cell_version", "user", "duty", "assigned_at"]
    list_filter = ["duty", "cell__version__status", ("cell__community", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["cell__code", "user__username", "user__first_name", "user__last_name"]
    list_select_related = ["cell__version", "user"]

    def get_urls(self):
        view = CellAutocompleteView.as_view(admin_site=self.admin_site)
        autocomplete = path(
            "cell-autocomplete/", self.admin_site.admin_view(view), name="grids_cellassignment_cell_autocomplete"
        )
        return [autocomplete, *super().get_urls()]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cell":
            kwargs["widget"] = CellAutocomplete(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["cell"].label_from_instance = cell_label
        return form

    # Assignments of a retired version are history.
    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _retired(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _retired(obj)

    @admin.display(description=_("version"), ordering="cell__version")
    def cell_version(self, obj):
        return obj.cell.version


def _retired(assignment) -> bool:
    return assignment is not None and assignment.cell.version.status == GridVersion.Status.RETIRED
