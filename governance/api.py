"""REST API plumbing shared by every app: one error shape for every failure, bounded bodies, clean text.

Every error is {"error": {"code", "message", "details"}} (docs/api.md); what DRF
never sees gets the same body from governance.errors.
"""

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_gis.pagination import GeoJsonPagination

from governance.errors import error_body
from governance.selectors import role_of
from governance.text import clean_text


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = _("The request is too large.")


class JSONParser(parsers.JSONParser):
    """Strict JSON of bounded size and depth, read before anything recurses over it.

    The size bound is Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which DRF does not apply
    to JSON bodies: governance.errors.ApiErrorMiddleware refuses a body that declares
    more, and this counts the bytes of one that declares nothing (chunked). The depth
    bound stops a 5,000-deep array from reaching code that recurses (the parser
    itself, serializers, GEOS) and answers 400 instead of a 500.
    NaN and Infinity are not JSON and are refused here, before any number is used.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(_("The JSON body is larger than %(kb)d KB.") % {"kb": limit // 1024})
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
        except RecursionError as error:
            raise _too_deep() from error
        except (UnicodeDecodeError, ValueError) as error:
            raise exceptions.ParseError(_("The body is not valid UTF-8 JSON.")) from error
        if _depth_exceeds(data, settings.API_MAX_JSON_DEPTH):
            raise _too_deep()
        return data


def _not_json(constant):
    raise ValueError(f"{constant} is not JSON")


def _too_deep():
    return exceptions.ParseError(
        _("The JSON body is nested deeper than %(depth)d levels.") % {"depth": settings.API_MAX_JSON_DEPTH}
    )


def _depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:  # a loop, not recursion: the point is to survive what recursion would not
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


class TextField(serializers.CharField):
    """Free text from a person: bounded (the bound is in the schema), control and bidi-override characters removed."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data):
        return clean_text(super().to_internal_value(data))


class FeaturePagination(GeoJsonPagination):
    """A page of GeoJSON features, {"type": "FeatureCollection", "count", "next", "previous", "features"}.

    rest_framework_gis describes a page's `features` as one whole FeatureCollection
    (the <Name>List component drf-spectacular hands it); a page holds the features.
    """

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        ref = schema.get("$ref", "")
        if ref.endswith("List"):
            paged["properties"]["features"] = {"type": "array", "items": {"$ref": ref.removesuffix("List")}}
        paged["required"] = ["type", "count", "features"]
        return paged


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
    response.data = error_body(code, message, details)
    return response


def error_response(code: str, message: str, *, http_status=status.HTTP_400_BAD_REQUEST, details=None):
    return Response(error_body(code, message, details), status=http_status)
