"""Every step of the lifecycle as a web form and the service call behind it.

The case page, the command centre and the department admin offer these; the
API has its own serializers but calls the same services. A step is offered
when the user may take it (selectors.can_act) and the case is in a state it
starts from (`when`); the service checks the state again under the row lock,
so a stale page gets a clear message, never a half-done step.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cases import services
from cases.models import OPEN_STATUSES, UNIT_CHOICES, Case, CasePhoto, CaseRequest, Category, Channel, Severity, Status
from cases.photos import case_photo_add
from governance.models import Department
from governance.text import TextFormField


def _departments():
    return Department.objects.filter(is_active=True).order_by("code")


class DepartmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, department):
        return f"{department.code} {department.name}"


class CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, category):
        return f"{category.code} {category.name}（{category.get_kind_display()}）"


def _textarea(rows=2):
    return forms.Textarea(attrs={"rows": rows})


class NoteForm(forms.Form):
    note = TextFormField(label=_("note"), required=False, widget=_textarea())


class ReasonForm(forms.Form):
    reason = TextFormField(label=_("reason"), widget=_textarea(3))


class OptionalReasonForm(forms.Form):
    reason = TextFormField(label=_("reason"), required=False, widget=_textarea())


class NothingForm(forms.Form):
    pass


class RegisterForm(forms.Form):
    category = CategoryChoice(
        label=_("category"), queryset=Category.objects.filter(is_active=True).order_by("kind", "code")
    )
    severity = forms.ChoiceField(
        label=_("severity"), required=False, choices=[("", _("the category's default")), *Severity.choices]
    )
    department = DepartmentChoice(
        label=_("department"), required=False, queryset=_departments(), empty_label=_("the category's department")
    )


class DispatchForm(forms.Form):
    department = DepartmentChoice(
        label=_("department"), required=False, queryset=_departments(), empty_label=_("as registered")
    )


class HandleForm(forms.Form):
    note = TextFormField(label=_("what was done"), widget=_textarea(3))
    after_photo = forms.ImageField(label=_("after-photo (处置后)"))


class VerifyForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("result"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
        choices=[("yes", _("solved: verified")), ("no", _("not solved: back for rework (返工)"))],
    )  # fmt: skip
    reason = TextFormField(label=_("what was found"), required=False, widget=_textarea())


YES_NO = [("yes", _("yes")), ("no", _("no"))]


def _yes_no(value):
    return {"yes": True, "no": False}.get(value)


class CallbackForm(forms.Form):
    reached = forms.TypedChoiceField(
        label=_("citizen reached"), coerce=_yes_no, widget=forms.RadioSelect, choices=YES_NO
    )
    solved = forms.TypedChoiceField(
        label=_("solved"), coerce=_yes_no, required=False, empty_value=None, widget=forms.RadioSelect, choices=YES_NO
    )
    satisfied = forms.TypedChoiceField(
        label=_("satisfied"), coerce=_yes_no, required=False, empty_value=None, widget=forms.RadioSelect,
        choices=YES_NO,
    )  # fmt: skip
    note = TextFormField(label=_("note"), required=False, widget=_textarea())


class ExtensionForm(ReasonForm):
    amount = forms.DecimalField(label=_("extra time"), min_value=Decimal("0.25"), max_digits=7, decimal_places=2)
    unit = forms.ChoiceField(label=_("unit"), choices=UNIT_CHOICES, initial="working_days")


class DecideForm(forms.Form):
    request = forms.ModelChoiceField(
        queryset=CaseRequest.objects.filter(decision=CaseRequest.Decision.PENDING), widget=forms.HiddenInput
    )
    approve = forms.TypedChoiceField(
        label=_("decision"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
        choices=[("yes", _("approve")), ("no", _("refuse"))],
    )  # fmt: skip
    note = TextFormField(label=_("note (required when refusing)"), required=False, widget=_textarea())
    department = DepartmentChoice(
        label=_("re-dispatch to (approved return)"), required=False, queryset=_departments(),
        empty_label=_("decide later"),
    )  # fmt: skip


class MergeForm(ReasonForm):
    into = forms.CharField(label=_("merge into case number"), max_length=20)

    def clean_into(self):
        number = self.cleaned_data["into"].strip()
        target = Case.objects.filter(number=number).first()
        if target is None:
            raise forms.ValidationError(_("No case has this number."))
        return target


# --- runners: the form's cleaned data → the service --------------------------------


def _register(*, case, actor, category, severity="", department=None):
    services.case_register(case=case, actor=actor, category=category, severity=severity or None, department=department)


def _handle(*, case, actor, note, after_photo):
    # Both or neither: a case is never marked handled without its after-photo.
    with transaction.atomic():
        services.case_handle(case=case, actor=actor, note=note)
        case_photo_add(case=case, kind=CasePhoto.Kind.AFTER, upload=after_photo, user=actor)


def _decide(*, case, actor, request, approve, note="", department=None):
    if request.case_id != case.pk:
        raise forms.ValidationError(_("This case has no such request."))
    services.case_decide_request(request=request, actor=actor, approve=approve, note=note, department=department)


def _call(service):
    def run(**kwargs):
        service(**kwargs)

    return run


@dataclass(frozen=True)
class Step:
    action: str  # the key of selectors.ACTORS: who may take it
    label: str
    form: type
    run: object
    when: tuple = ()  # the statuses it starts from
    danger: bool = False

    def offered(self, case: Case) -> bool:
        if case.status not in self.when:
            return False
        if self.action == "resume":
            return case.suspended_at is not None
        if self.action == "request_suspension":
            return case.suspended_at is None
        if self.action == "callback":
            return case.channel == Channel.HOTLINE
        if self.action == "reopen":
            return case.merged_into_id is None
        if self.action == "decide_request":
            return any(r.decision == CaseRequest.Decision.PENDING for r in case.requests.all())
        return True


DISPATCHED = (Status.DISPATCHED,)
STEPS: dict[str, Step] = {
    "register": Step("register", _("register (立案)"), RegisterForm, _register, (Status.REPORTED,)),
    "reject": Step("reject", _("reject (不予立案)"), ReasonForm, _call(services.case_reject), (Status.REPORTED,), True),
    "dispatch": Step("dispatch", _("dispatch (派遣)"), DispatchForm, _call(services.case_dispatch),
                     (Status.REGISTERED,)),
    "decide": Step("decide_request", _("decide a request"), DecideForm, _decide, DISPATCHED),
    "accept": Step("accept", _("accept (签收)"), NoteForm, _call(services.case_accept), DISPATCHED),
    "handle": Step("handle", _("mark handled"), HandleForm, _handle, DISPATCHED),
    "extension": Step("request_extension", _("ask for an extension (延期)"), ExtensionForm,
                      _call(services.case_request_extension), DISPATCHED),
    "suspension": Step("request_suspension", _("ask to suspend (缓办)"), ReasonForm,
                       _call(services.case_request_suspension), DISPATCHED),
    "return": Step("request_return", _("return to the command centre (退单)"), ReasonForm,
                   _call(services.case_request_return), DISPATCHED),
    "resume": Step("resume", _("resume the clock"), NothingForm, _call(services.case_resume), DISPATCHED),
    "verify": Step("verify", _("verify on site (核查)"), VerifyForm, _call(services.case_verify), (Status.HANDLED,)),
    "callback": Step("callback", _("callback (回访)"), CallbackForm, _call(services.case_callback),
                     (Status.VERIFIED,)),
    "close": Step("close", _("close (结案)"), OptionalReasonForm, _call(services.case_close), (Status.VERIFIED,)),
    "merge": Step("merge", _("merge into another case (并单)"), MergeForm, _call(services.case_merge),
                  tuple(OPEN_STATUSES), True),
    "reopen": Step("reopen", _("reopen"), ReasonForm, _call(services.case_reopen), (Status.CLOSED,), True),
}  # fmt: skip


def offered_steps(user, case: Case, names=None) -> list[tuple[str, Step]]:
    """The steps this user may take on this case now, in the order of the lifecycle."""
    from cases.selectors import can_act

    return [
        (name, step)
        for name, step in STEPS.items()
        if (names is None or name in names) and step.offered(case) and can_act(user, case, step.action)
    ]
