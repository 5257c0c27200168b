"""Admin of the taxonomy and time limits (system admins edit; others read) and of cases.

Department staff work their own cases here: the list shows only what
cases_visible_to() allows, deadlines coloured by the sweep's verdict, and each
step (accept, mark handled with an after-photo, ask for an extension, return)
is a small page that calls the same service as the API.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import services
from cases.models import Case, CaseEvent, CasePhoto, Category, SlaPolicy
from cases.selectors import can_act, cases_visible_to
from cases.steps import STEPS as ALL_STEPS
from cases.views import case_map
from grids.admin import MapMedia


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "name", "class_name", "default_department", "default_severity", "handling_limit",
                    "is_active"]  # fmt: skip
    list_filter = ["kind", "default_severity", "default_department", "is_active"]
    search_fields = ["code", "name", "class_name", "description"]
    list_select_related = ["default_department"]
    ordering = ["kind", "code"]

    @admin.display(description=_("handling limit"), ordering="handling_amount")
    def handling_limit(self, obj):
        return f"{obj.handling_amount.normalize()} {obj.get_handling_unit_display()}"

    def get_readonly_fields(self, request, obj=None):
        # Cases and statistics refer to the code: fixed once the category exists.
        return ["kind", "code"] if obj else []

    def has_delete_permission(self, request, obj=None):
        # A category in use is retired (is_active off), never deleted; PROTECT keeps the rows anyway.
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["stage", "category", "severity_or_any", "amount", "unit"]
    list_filter = ["stage", "severity", ("category", admin.EmptyFieldListFilter)]
    search_fields = ["category__code", "category__name"]
    autocomplete_fields = ["category"]
    list_select_related = ["category"]

    @admin.display(description=_("severity"), ordering="severity")
    def severity_or_any(self, obj):
        return obj.get_severity_display() if obj.severity else _("any")


# --- Cases: department staff work their cases here -------------------------------------

SLA_COLOURS = {"green": "#2e7d32", "yellow": "#f0b400", "red": "#c62828"}


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CasePhotoInline(admin.TabularInline):
    model = CasePhoto
    fields = ["preview", "kind", "taken_at", "uploaded_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("photo"))
    def preview(self, obj):
        # Through the permission-checked view, never a media URL.
        url = reverse("cases:photo", args=[obj.pk])
        return format_html('<a href="{}"><img src="{}" alt="" style="max-height:96px;max-width:128px"></a>', url, url)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "category", "severity", "status", "department", "cell_code", "deadline",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "severity", "sla_level", "category", "cell__community", "department"]
    search_fields = ["number", "description", "address", "cell__code"]
    list_select_related = ["category", "department", "cell"]
    date_hierarchy = "created_at"
    inlines = [CasePhotoInline, CaseEventInline]
    Media = MapMedia
    fields = ["number", "status", "deadline", "channel", "category", "severity", "department", "description",
              "address", "cell_code", "grid_version", "location_map", "created_at", "closed_at", "extension_count",
              "suspended_at", "merged_into"]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return cases_visible_to(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return False  # cases are reported on phones, by the hotline or through the API

    def has_change_permission(self, request, obj=None):
        return False  # every change is a step with its own page below

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("grid cell"), ordering="cell__code")
    def cell_code(self, obj):
        return obj.cell.code if obj.cell_id else "—"

    @admin.display(description=_("deadline"))
    def deadline(self, obj):
        due = obj.current_due
        if due is None:
            return "—"
        return format_html(
            '<span class="case-deadline" style="border-left:6px solid {};padding-left:6px" title="{}">{}</span>',
            SLA_COLOURS[obj.sla_level], obj.get_sla_level_display(), date_format(localtime(due), "Y-m-d H:i"),
        )  # fmt: skip

    @admin.display(description=_("location"))
    def location_map(self, obj):
        return case_map(obj) or "—"

    # The steps a department takes, each a small page with its form.

    def get_urls(self):
        steps = [
            path(f"<int:pk>/{name}/", self.admin_site.admin_view(self.step_view), {"step": name},
                 name=f"cases_case_{name}")
            for name in STEPS
        ]  # fmt: skip
        return steps + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        steps = [
            (name, step.label) for name, step in STEPS.items()
            if case and step.offered(case) and can_act(request.user, case, step.action)
        ]  # fmt: skip
        return super().change_view(request, object_id, form_url, (extra_context or {}) | {"case_steps": steps})

    def step_view(self, request, pk, step):
        case = self.get_queryset(request).filter(pk=pk).first()
        spec = STEPS[step]
        if case is None or not can_act(request.user, case, spec.action):
            raise PermissionDenied
        form = spec.form(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                spec.run(case=case, actor=request.user, **form.cleaned_data)
            except (services.CaseTransitionError, ValidationError) as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(request, gettext("%(number)s: %(step)s done.") % {"number": case.number,
                                                                                   "step": spec.label})  # fmt: skip
                return redirect("admin:cases_case_change", case.pk)
        context = self.admin_site.each_context(request) | {
            "opts": self.opts, "case": case, "form": form, "title": f"{case.number} · {spec.label}",
            "step_label": spec.label,
        }  # fmt: skip
        return TemplateResponse(request, "admin/cases/case/step.html", context)


def _error_text(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


# The steps a department takes in its admin; the forms and services are shared with the case page.
STEPS = {name: ALL_STEPS[name] for name in ("accept", "handle", "extension", "suspension", "return", "resume")}
