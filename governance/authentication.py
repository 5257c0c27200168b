"""How the API knows who is calling: the browser's session only, for now.

HTTP Basic is off: it sends the password with every request and, with its
`WWW-Authenticate: Basic` challenge, invites a browser dialog and scripted
guessing past the sign-in lockout. Machine clients get tokens in a later issue.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular import authentication as extensions
from rest_framework import authentication, exceptions


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, answering a missing login with 401 instead of 403.

    DRF says 401 only when the first authenticator names a challenge. "Session" is
    no scheme a browser knows, so nothing pops up; the client learns it must log
    in (401) rather than that it is forbidden (403).
    """

    def authenticate_header(self, request):
        return 'Session realm="api"'

    def enforce_csrf(self, request):
        # DRF's refusal carries Django's English reason ("CSRF Failed: CSRF cookie not set.");
        # the client gets the same Chinese message and code as a page's CSRF failure.
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as error:
            raise CsrfFailed() from error


class CsrfFailed(exceptions.PermissionDenied):
    default_code = "csrf_failed"
    default_detail = _("The form expired or came from another site; reload the page and try again.")


class SessionScheme(extensions.SessionScheme):
    """Tells drf-spectacular that this is the cookie session it already knows."""

    target_class = SessionAuthentication
