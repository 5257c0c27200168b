"""Pages of the cases app, mounted at /cases/."""

from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("<int:pk>/", views.case_page, name="case"),
    path("<int:pk>/photo/", views.case_photo_upload, name="photo-add"),
    path("<int:pk>/<slug:step>/", views.case_step, name="step"),
    # Case photos live under MEDIA_ROOT but are never served from MEDIA_URL: only here.
    path("photos/<int:pk>/", views.photo, name="photo"),
]
