"""REST API plumbing shared by every app: one error shape for every failure."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance.selectors import role_of


class HasRole(BasePermission):
    """Staff with a role; an outsider (a login without one) sees nothing."""

    message = _("Your account has no role here; ask a system admin to give it one.")

    def has_permission(self, request, view):
        return role_of(request.user) is not None


def exception_handler(exc, context):
    """Answer every error as {"error": {"code", "message", "details"}}.

    Django's own ValidationError (raised by services and model validation) is
    mapped to 400 instead of becoming a 500.
    """
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    code = getattr(exc, "default_code", "error")
    message = detail.get("detail", str(exc.default_detail)) if isinstance(detail, dict) else str(exc.default_detail)
    details = {k: v for k, v in detail.items() if k != "detail"} if isinstance(detail, dict) else detail
    response.data = {"error": {"code": code, "message": str(message), "details": details}}
    return response


def error_response(code: str, message: str, *, http_status=status.HTTP_400_BAD_REQUEST, details=None):
    return Response({"error": {"code": code, "message": message, "details": details or {}}}, status=http_status)
