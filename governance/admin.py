from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.contrib.gis.admin import GISModelAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
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

    def get_readonly_fields(self, request, obj=None):
        # A profile stays with its person: moving it would hand someone else the role.
        return ["user"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # Not only the autocomplete: a hand-made POST may name any id.
            kwargs["queryset"] = selectors.users_manageable_by(request.user, User.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.staff_sync_role(profile=obj)

    def delete_model(self, request, obj):
        services.staff_profile_delete(profile=obj)

    def delete_queryset(self, request, queryset):
        for profile in queryset.select_related("user"):
            services.staff_profile_delete(profile=profile)


admin.site.unregister(User)
admin.site.unregister(Group)

# What only a superuser may decide about a login. Below superuser the role on the
# staff profile decides groups and admin access (services.staff_sync_role), and a
# password is changed by its owner on the page that asks for the current one.
SUPERUSER_ONLY_FIELDS = ["is_superuser", "is_staff", "groups", "user_permissions", "password"]


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Logins and their staff profiles. A system admin who is not a superuser creates
    logins, lets them in or keeps them out and sets their role, department and region;
    superuser status, groups, permissions and others' passwords are out of reach."""

    inlines = [StaffProfileInline]
    actions = ["activate", "deactivate"]
    staff_fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        # Hidden, so a superuser's login can be neither opened, changed nor deactivated.
        return selectors.users_manageable_by(request.user, super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.staff_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        # Not one's own is_active: a system admin who shut themself out needs a superuser.
        return ["last_login", "date_joined", *(["is_active"] if obj == request.user else [])]

    def get_form(self, request, obj=None, **kwargs):
        if not request.user.is_superuser:
            # Under the fieldsets, too: these model fields never make it into a form
            # below superuser, so a hand-made POST naming them changes nothing.
            kwargs["exclude"] = [*SUPERUSER_ONLY_FIELDS, *self.get_readonly_fields(request, obj)]
        return super().get_form(request, obj, **kwargs)

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return super().get_list_filter(request)
        return ["is_staff", "is_active", "profile__role"]

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            if unquote(id) == str(request.user.pk):
                # One's own password: the page that asks for the current one first.
                return redirect("admin:password_change")
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        if obj.is_superuser and not request.user.is_superuser:
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        profile = StaffProfile.objects.filter(user=form.instance).first()
        if profile:
            services.staff_sync_role(profile=profile)

    @admin.action(description=_("Let the selected logins sign in"), permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, active=True)

    @admin.action(description=_("Keep the selected logins out"), permissions=["change"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, active=False)

    def _set_active(self, request, queryset, *, active):
        count = services.staff_set_active(actor=request.user, users=queryset, active=active)
        self.message_user(request, _("%(count)d logins changed.") % {"count": count})


@admin.register(Group)
class RoleGroupAdmin(GroupAdmin):
    """Groups carry the roles' permissions (governance.roles): superusers only,
    whatever permissions a role holds, since editing a group rewrites every role."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser


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
