"""REST endpoints of the grids app, mounted at /api/grids/."""

from django.urls import path

from grids import api

urlpatterns = [
    path("lookup", api.GridLookupApi.as_view(), name="api-grid-lookup"),
    path("versions/", api.GridVersionListApi.as_view(), name="api-grid-versions"),
    path("versions/<int:pk>/", api.GridVersionDetailApi.as_view(), name="api-grid-version"),
    path("versions/<int:pk>/cells/", api.GridVersionCellsApi.as_view(), name="api-grid-version-cells"),
    path("cells/<str:code>/", api.GridCellApi.as_view(), name="api-grid-cell"),
]
