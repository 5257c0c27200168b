from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from governance import api_views, views
from governance.health import healthz

# What DRF never sees (no route, a body too large, an escaped exception) answers
# in the same shape: JSON under /api/, a Chinese page elsewhere.
handler400 = "governance.errors.bad_request"
handler403 = "governance.errors.permission_denied"
handler404 = "governance.errors.page_not_found"
handler500 = "governance.errors.server_error"

admin.site.site_header = settings.PRODUCT_NAME
admin.site.site_title = settings.PRODUCT_NAME

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("workspace/grid/", views.grid_workspace, name="workspace-grid"),
    path("workspace/hotline/", views.hotline_workspace, name="workspace-hotline"),
    path("workspace/command/", views.command_workspace, name="workspace-command"),
    path("workspace/dashboard/", views.leader_dashboard, name="workspace-dashboard"),
    path("healthz", healthz, name="healthz"),
    path("grids/", include("grids.urls")),
    path("cases/", include("cases.urls")),
    path("measures/", include("cases.measures_urls")),
    path("command/", include("cases.command_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/me/", api_views.MeApi.as_view(), name="api-me"),
    path("api/departments/", api_views.DepartmentListApi.as_view(), name="api-departments"),
    path("api/regions/", api_views.RegionListApi.as_view(), name="api-regions"),
    path("api/calendar/deadline/", api_views.DeadlineApi.as_view(), name="api-calendar-deadline"),
    path("api/grids/", include("grids.api_urls")),
    path("api/cases/", include("cases.api_urls")),
]
