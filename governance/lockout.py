"""Sign-in protection (django-axes): who the client is, and what a locked-out client is told.

axes calls `client_ip` (AXES_CLIENT_IP_CALLABLE) and `lockout_response`
(AXES_LOCKOUT_CALLABLE); settings and docs/security.md say how they are configured.
"""

import logging

from axes.apps import AppConfig
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

log = logging.getLogger(__name__)


class AxesConfig(AppConfig):
    """django-axes under a name the admin shows in Chinese (axes ships no zh_Hans)."""

    verbose_name = gettext_lazy("Sign-in protection")


def client_ip(request) -> str | None:
    """The address failures are counted against.

    REMOTE_ADDR unless SIGNIN_CLIENT_IP_HEADER names a header our own proxies set.
    X-Forwarded-For is a list each proxy appends to, and anything left of what
    our proxies appended was written by the client: with N trusted proxies the
    client's address is the N-th entry from the right. Trusting the left-most
    entry would let a guesser pick a fresh address for every attempt.
    """
    header = settings.SIGNIN_CLIENT_IP_HEADER
    if header:
        hops = [h.strip() for h in request.META.get(header, "").split(",") if h.strip()]
        if len(hops) >= settings.SIGNIN_TRUSTED_PROXIES:
            return hops[-settings.SIGNIN_TRUSTED_PROXIES]
    return request.META.get("REMOTE_ADDR")


def _message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed sign-in attempts: this account or this address is locked for %(minutes)d minutes. "
        "Try again later, or ask a system admin to unlock it."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """429 with a Chinese page for people, the API's error shape under /api/."""
    # Refused attempts are not written to the database (settings); the log keeps them.
    log.warning("Sign-in refused during a lockout: address %s, path %s", client_ip(request), request.path)
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": _message(), "details": {}}}
        return JsonResponse(body, status=settings.AXES_HTTP_RESPONSE_CODE)
    context = {"message": _message()}
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
