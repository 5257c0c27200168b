"""Pages of the cases app: the case page with its steps, and the one door to a case photo."""

import json
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from cases import photos, selectors
from cases.models import CasePhoto, CaseRequest
from cases.services import CaseTransitionError
from cases.steps import STEPS, offered_steps
from grids.admin import read_only_map


@login_required
def photo(request, pk):
    """A case photo, to those who may see its case; 404 to everyone else, as if it did not exist."""
    found = selectors.photo_visible_to(request.user, pk=pk)
    if found is None:
        raise Http404
    try:
        handle = found.image.storage.open(found.image.name, "rb")
    except FileNotFoundError as error:
        raise Http404 from error
    content_type = photos.CONTENT_TYPES.get(PurePath(found.image.name).suffix.lower(), "application/octet-stream")
    response = FileResponse(handle, content_type=content_type)
    # Shared caches must not keep it; the browser may, for the user who was allowed to see it.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the case page: details, history, photos and the steps the user may take ------


@login_required
def case_page(request, pk):
    """One case for anyone who may see it; the forms of the steps they may take now."""
    case = _visible_or_404(request, pk)
    return _render_case(request, case)


@login_required
@require_POST
def case_step(request, pk, step):
    """Take one step; a bad form or a stale page re-renders the case with the reason, nothing half-saved."""
    case = _visible_or_404(request, pk)
    spec = STEPS.get(step)
    if spec is None:
        raise Http404
    if not selectors.can_act(request.user, case, spec.action):
        raise PermissionDenied
    form = spec.form(request.POST, request.FILES, prefix=step)
    if form.is_valid():
        try:
            spec.run(case=case, actor=request.user, **form.cleaned_data)
        except CaseTransitionError as error:
            messages.error(request, str(error))
            return _render_case(request, _visible_or_404(request, pk), status=409)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("%(number)s: %(step)s done.") % {"number": case.number, "step": spec.label})
            target = request.POST.get("next", "")
            if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                return redirect(target)
            # The one who took the step may no longer see the case (a department's return).
            if selectors.case_detail(user=request.user, pk=pk) is None:
                return redirect("home")
            return redirect("cases:case", pk=pk)
    return _render_case(request, selectors.case_detail(user=request.user, pk=pk), bound={step: form}, status=400)


class PhotoForm(forms.Form):
    kind = forms.ChoiceField(label=_lazy("kind"), choices=CasePhoto.Kind.choices, initial=CasePhoto.Kind.EVIDENCE)
    image = forms.ImageField(label=_lazy("photo"))


@login_required
@require_POST
def case_photo_upload(request, pk):
    """Add a photo to a case one works on (the reporter, whoever may take a step on it)."""
    case = _visible_or_404(request, pk)
    if not selectors.can_work_on(request.user, case):
        raise PermissionDenied
    form = PhotoForm(request.POST, request.FILES, prefix="photo")
    if form.is_valid():
        try:
            photos.case_photo_add(case=case, kind=form.cleaned_data["kind"], upload=form.cleaned_data["image"],
                                  user=request.user)  # fmt: skip
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("%(number)s: photo added.") % {"number": case.number})
            return redirect("cases:case", pk=pk)
    return _render_case(request, case, photo_form=form, status=400)


def _visible_or_404(request, pk):
    case = selectors.case_detail(user=request.user, pk=pk)
    if case is None:
        raise Http404
    return case


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _render_case(request, case, *, bound=None, photo_form=None, status=200):
    bound = bound or {}
    steps = [
        {"name": name, "step": step, "form": bound.get(name) or _initial_form(name, step, case)}
        for name, step in offered_steps(request.user, case)
    ]
    pending = [r for r in case.requests.all() if r.decision == CaseRequest.Decision.PENDING]
    context = {
        "case": case,
        "steps": steps,
        "pending_requests": pending,
        "can_see_contact": selectors.can_see_contact(request.user, case),
        "photo_form": (photo_form or PhotoForm(prefix="photo")) if selectors.can_work_on(request.user, case) else None,
        "map": case_map(case),
    }
    return render(request, "cases/case.html", context, status=status)


def _initial_form(name, step, case):
    initial = {}
    if name == "dispatch" and case.department_id:
        initial["department"] = case.department_id
    if name == "register" and case.category_id:
        initial["category"] = case.category_id
    return step.form(prefix=name, initial=initial)


def case_map(case) -> str:
    """The case's place (and its grid cell) on a small read-only map: vendored OpenLayers, tiles only if configured."""
    if case.location is None:
        return ""
    layers = []
    if case.cell is not None:
        layers.append({"data": _collection(case.cell.geometry), "style": "polygons"})
    layers.append({"data": _collection(case.location), "style": "focus", "fit": True})
    return read_only_map(f"case-map-{case.pk}", layers)


def _collection(geometry) -> dict:
    geometry = geometry.transform(4326, clone=True) if geometry.srid != 4326 else geometry
    feature = {"type": "Feature", "geometry": json.loads(geometry.geojson), "properties": {}}
    return {"type": "FeatureCollection", "features": [feature]}
