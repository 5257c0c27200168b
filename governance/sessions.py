"""Sliding session expiry without a database write on every request."""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY

_REFRESHED = "_refreshed_at"


def mark_fresh(sender, request, user, **kwargs):
    """A session saved at sign-in is fresh: the first request after it need not save it again."""
    if hasattr(request, "session"):
        request.session[_REFRESHED] = int(time.time())


class SlidingSessionMiddleware:
    """Move a signed-in session's expiry forward, at most once per SESSION_REFRESH_SECONDS.

    SESSION_SAVE_EVERY_REQUEST would write the session row on every request,
    every page view and API read a write that queues behind the case writers on
    SQLite (docs/security.md has the measurement). Saving it only when the last
    save is older than the refresh interval keeps the expiry sliding: a session
    ends after between SESSION_COOKIE_AGE minus the interval and
    SESSION_COOKIE_AGE of inactivity.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(_REFRESHED, 0) >= settings.SESSION_REFRESH_SECONDS:
                # A changed session is saved by SessionMiddleware, with a new expiry and cookie.
                session[_REFRESHED] = now
        return self.get_response(request)
