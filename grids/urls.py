"""Pages of the grids app (map of the unified grid and the data it reads)."""

from django.urls import path

from grids import views

app_name = "grids"
urlpatterns = [
    path("map/", views.grid_map, name="map"),
    path("map/cells.geojson", views.cells_geojson, name="map-cells"),
    path("map/cells/<int:pk>.json", views.cell_detail, name="map-cell"),
    path("map/layers/<str:department>.geojson", views.layer_geojson, name="map-layer"),
]
