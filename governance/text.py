"""Free text that people type: how long it may be, and what is taken out of it.

Control characters (but tab and newline) and the Unicode bidirectional overrides
are removed from every text a person submits, on every channel: they hide or
reorder what a reader sees (a reason that reads differently in the history than
what was typed) and break CSV exports. The bounds are what the product stores and
shows; the API states them in its schema (docs/api.md).
"""

import re

from django import forms
from django.db import models

# Titles, addresses, names of places.
SHORT_TEXT = 200
# Reasons, notes, handling descriptions: a paragraph.
NOTE_TEXT = 1000
# A report's description: what a caller said, as the agent typed it.
DESCRIPTION_TEXT = 2000

# C0 controls but \t and \n, DEL, C1 controls, and the bidi marks, embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# The apps whose rows people's text reaches (their own, not Django's sessions or axes' logs).
PRODUCT_APPS = {"governance", "grids", "cases"}


def clean_text(value: str) -> str:
    """The text without unsafe characters, line ends as \\n, outer white space trimmed."""
    return _UNSAFE.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


class TextFormField(forms.CharField):
    """A form's free-text field: bounded, cleaned as above (the API's is governance.api.TextField)."""

    def __init__(self, *, max_length: int = NOTE_TEXT, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def to_python(self, value):
        return clean_text(super().to_python(value))


def strip_unsafe_before_save(sender, instance, raw=False, **kwargs):
    """pre_save, for every model of the product: whatever channel wrote a text (the admin, an
    import, a command, a service), it is stored without unsafe characters. Forms and the API
    also trim and bound it; this is the floor under all of them."""
    if raw or sender._meta.app_label not in PRODUCT_APPS:
        return
    for field in sender._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField):
            value = getattr(instance, field.attname)
            if isinstance(value, str) and _UNSAFE.search(value):
                setattr(instance, field.attname, _UNSAFE.sub("", value))
