"""Pages of the cases app, mounted at /cases/."""

from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    # Case photos live under MEDIA_ROOT but are never served from MEDIA_URL: only here.
    path("photos/<int:pk>/", views.photo, name="photo"),
]
