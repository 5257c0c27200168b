"""The command centre's pages, mounted at /command/."""

from django.urls import path

from cases import command_views

app_name = "command"
urlpatterns = [
    path("", command_views.queue, name="queue"),
    path("approvals/", command_views.approvals, name="approvals"),
    path("overdue/", command_views.overdue, name="overdue"),
    path("map/", command_views.case_map, name="map"),
    path("map/cases.geojson", command_views.case_map_data, name="map-data"),
]
