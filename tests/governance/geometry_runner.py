"""Run in a child process by test_admin_geometry: each text through the Region admin's boundary field.

The field is the one the admin builds (OfflineGISAdmin's widget included) and
each text goes where the admin sends a posted value: clean(), has_changed()
and the widget's render after a form error; an accepted geometry is also
written out as WKT, where ±1e300 used to abort the process. Had GEOS aborted,
the child dies with a signal and the test sees the exit code instead of
losing pytest itself. No database is touched.
"""

import json
import sys

import django

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import translation  # noqa: E402

from governance.models import Region  # noqa: E402


def boundary_field():
    request = RequestFactory().get("/admin/")
    request.user = User(username="root", is_superuser=True, is_staff=True, is_active=True)
    return admin.site._registry[Region].get_form(request).base_fields["boundary"]


def outcome(field, name: str, text: str) -> dict:
    changed = field.has_changed(None, text)
    field.widget.render("boundary", text)
    try:
        geometry = field.clean(text)
    except ValidationError as error:
        return {"name": name, "outcome": "refused", "message": " ".join(error.messages), "changed": changed}
    return {"name": name, "outcome": "accepted", "ewkt": geometry.ewkt, "changed": changed}


if __name__ == "__main__":
    translation.activate("zh-hans")
    field = boundary_field()
    with open(sys.argv[1], encoding="utf-8") as cases:
        texts = json.load(cases)
    for name, text in texts.items():
        print(json.dumps({"started": name}), flush=True)
        print(json.dumps(outcome(field, name, text), ensure_ascii=False), flush=True)
