"""REST endpoints of the cases app, mounted at /api/cases/."""

from django.urls import path

from cases import api

urlpatterns = [
    path("", api.CaseListApi.as_view(), name="api-cases"),
    path("create/", api.CaseCreateApi.as_view(), name="api-case-create"),
    path("<int:pk>/", api.CaseDetailApi.as_view(), name="api-case"),
    path("<int:pk>/photos/", api.CasePhotoUploadApi.as_view(), name="api-case-photo-upload"),
    # One POST per step of the lifecycle: /api/cases/<pk>/register/, …/dispatch/, …
    *[path(f"<int:pk>/{view.action}/", view.as_view(), name=f"api-case-{view.action}") for view in api.TRANSITIONS],
]
