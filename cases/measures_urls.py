"""The measures (综合评价) pages, mounted at /measures/ by governance/urls.py."""

from django.urls import path

from cases import measures_views

app_name = "measures"
urlpatterns = [
    path("", measures_views.ranking, name="ranking"),
    path("export.csv", measures_views.export_csv, name="export-csv"),
    path("export.xlsx", measures_views.export_xlsx, name="export-xlsx"),
]
