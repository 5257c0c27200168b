"""One error shape: the JSON body of every /api/ error, and the pages of every other one.

DRF's own errors pass through governance.api.exception_handler. What DRF never
sees comes here, through Django's handler400/403/404/500 and the CSRF failure
view: a URL no route matches, a body over the size limit read before the view,
an exception that escaped a view. Under /api/ they answer the same JSON as DRF's
errors; elsewhere a Chinese page. docs/api.md lists the codes.
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": str(message), "details": details if details is not None else {}}}


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, details=None) -> JsonResponse:
    # ensure_ascii off: the Chinese message reads as Chinese in a terminal or a log, not \\u escapes.
    return JsonResponse(error_body(code, message, details), status=status, json_dumps_params={"ensure_ascii": False})


def _page(request, template: str, status: int, **context):
    response = TemplateResponse(request, template, context, status=status)
    response.render()  # errors outside the view chain are not rendered later by Django
    return response


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
        message = _("The request is too large.")
        if is_api(request):
            return json_error(413, "too_large", message)
        return _page(request, "400.html", 413, message=message)
    message = _("The request could not be understood.")
    if is_api(request):
        return json_error(400, "bad_request", message)
    return _page(request, "400.html", 400, message=message)


def permission_denied(request, exception=None):
    if is_api(request):
        return json_error(403, "permission_denied", _("You do not have permission to perform this action."))
    return _page(request, "403.html", 403)


def page_not_found(request, exception=None):
    if is_api(request):
        return json_error(404, "not_found", _("No such address in the API."), {"path": request.path})
    return _page(request, "404.html", 404)


def server_error(request):
    # Django has already logged the exception with its traceback (django.request).
    message = _("Something went wrong on our side; it has been logged. Please try again later.")
    if is_api(request):
        return json_error(500, "server_error", message)
    # No request context: a broken context processor or database may be why we are here.
    return HttpResponseServerError(render_to_string("500.html", {"message": message}))


def csrf_failure(request, reason=""):
    message = _("The form expired or came from another site; reload the page and try again.")
    if is_api(request):
        return json_error(403, "csrf_failed", message)
    return _page(request, "403.html", 403, message=message)


# What a page-shaped error under /api/ becomes: status → (code, message).
_API_ERRORS = {
    400: ("bad_request", "The request could not be understood."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "No such address in the API."),
    405: ("method_not_allowed", "The method is not allowed here."),
    413: ("too_large", "The request is too large."),
}


class ApiErrorMiddleware:
    """Outermost for /api/: the one error shape even where no view answered.

    A body longer than its limit (DATA_UPLOAD_MAX_MEMORY_SIZE for JSON,
    API_MAX_UPLOAD_BYTES for an upload) is refused from its declared length
    before anything reads it. An error that still arrives as a page (with DEBUG
    on, Django answers an unknown URL, a body it could not read and an escaped
    exception with its technical pages) is answered as JSON with its status;
    the technical page's details stay in the server's log.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        too_large = _declared_too_large(request)
        if too_large:
            return json_error(413, "too_large", too_large)
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            if response.status_code >= 500:
                return server_error(request)
            code, message = _API_ERRORS.get(response.status_code, ("error", "The request could not be understood."))
            return json_error(response.status_code, code, _(message))
        return response


def _declared_too_large(request) -> str:
    """Why the body is too large by its declared length, or "" if it is not."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return ""  # a garbled header: Django reads what is there, and the parsers' own limits apply
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/"):
        if length > settings.API_MAX_UPLOAD_BYTES:
            return _("The upload is larger than %(mb)d MB.") % {"mb": settings.API_MAX_UPLOAD_BYTES // 2**20}
    elif length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return _("The JSON body is larger than %(kb)d KB.") % {"kb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024}
    return ""
