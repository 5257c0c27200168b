"""How the API knows who is calling: the browser's session only, for now.

HTTP Basic is off: it sends the password with every request and, with its
`WWW-Authenticate: Basic` challenge, invites a browser dialog and scripted
guessing past the sign-in lockout. Machine clients get tokens in a later issue.
"""

from drf_spectacular import authentication as extensions
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, answering a missing login with 401 instead of 403.

    DRF says 401 only when the first authenticator names a challenge. "Session" is
    no scheme a browser knows, so nothing pops up; the client learns it must log
    in (401) rather than that it is forbidden (403).
    """

    def authenticate_header(self, request):
        return 'Session realm="api"'


class SessionScheme(extensions.SessionScheme):
    """Tells drf-spectacular that this is the cookie session it already knows."""

    target_class = SessionAuthentication
