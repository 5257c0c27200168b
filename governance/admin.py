from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.contrib.gis.admin import GISModelAdmin
from django.utils.translation import gettext_lazy as _

from governance import selectors, services
from governance.holidays import covered_years
from governance.models import CalendarOverride, Department, Region, StaffProfile
from governance.widgets import OfflineMapWidget


class OfflineGISAdmin(GISModelAdmin):
    """Every map in the admin uses the offline widget."""

    gis_widget = OfflineMapWidget


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "head", "contact_phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "duties"]
    autocomplete_fields = ["head"]

    def get_readonly_fields(self, request, obj=None):
        # The code is what cases, layers and statistics refer to: fixed once made.
        return ["code"] if obj else []


@admin.register(Region)
class RegionAdmin(OfflineGISAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    autocomplete_fields = ["department", "region"]
    verbose_name_plural = _("staff profile")


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "department", "region", "phone"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "phone"]
    autocomplete_fields = ["user", "department", "region"]
    list_select_related = ["user", "department", "region"]

    def get_queryset(self, request):
        # Department admins manage their own department's people only.
        return selectors.staff_visible_to(request.user, super().get_queryset(request))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.staff_sync_role(profile=obj)


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        profile = StaffProfile.objects.filter(user=form.instance).first()
        if profile:
            services.staff_sync_role(profile=profile)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working", "note", "updated_at"]
    list_filter = ["is_working"]
    search_fields = ["note"]
    date_hierarchy = "date"

    def changelist_view(self, request, extra_context=None):
        years = sorted(covered_years())
        messages.info(
            request,
            _("The chinese-calendar package knows %(first)s–%(last)s; rows here win over it.")
            % {"first": years[0], "last": years[-1]},
        )
        for year in selectors.calendar_today().missing_years:
            messages.warning(
                request,
                _(
                    "No holiday data for %(year)s: Monday–Friday count as working days "
                    "until you add that year's holidays and make-up days here."
                )
                % {"year": year},
            )
        return super().changelist_view(request, extra_context)
