"""Typed readers for environment variables.

Every helper fails loudly: a value that cannot be parsed raises
ImproperlyConfigured naming the variable and the bad value, so a typo in a
deployment stops the process at start-up instead of surfacing as odd
behaviour later.
"""

import os
import re
from datetime import time

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")

_MISSING = object()


def _raw(name, default):
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return None
    return value.strip()


def env_str(name: str, default=_MISSING) -> str:
    value = _raw(name, default)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name, default)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name, default)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_float(name: str, default: float) -> float:
    value = _raw(name, default)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name, default)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_time_ranges(name: str, value: str) -> list[tuple[time, time]]:
    """Parse "09:00-12:00,13:30-17:30" into ordered, non-overlapping ranges.

    An empty string means "no office hours" (used for a closed weekday).
    """
    ranges = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        match = _RANGE.match(part)
        if not match:
            raise ImproperlyConfigured(f"{name}: {part!r} is not a range like 09:00-12:00.")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if not (h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60) or (h2 == 24 and m2):
            raise ImproperlyConfigured(f"{name}: {part!r} is not a valid time of day.")
        start = time(h1, m1)
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ImproperlyConfigured(f"{name}: {part!r} ends before it starts.")
        if ranges and start < ranges[-1][1]:
            raise ImproperlyConfigured(f"{name}: {part!r} overlaps or precedes the range before it.")
        ranges.append((start, end))
    return ranges


def env_time_ranges(name: str, default: str) -> list[tuple[time, time]]:
    value = _raw(name, default)
    return parse_time_ranges(name, default if value is None else value)
