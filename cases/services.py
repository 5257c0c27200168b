"""The case lifecycle (domain.md §5) as services: one function per transition.

Each transition locks the case row (select_for_update), checks the state it
may start from, applies its change, restarts the clock of the stage it enters
on the working calendar, and writes its event, all in one transaction; side
effects are queued with transaction.on_commit. A transition from the wrong
state raises CaseTransitionError (409 in the API, a message in the admin).

The side paths (domain.md §5) follow the same rules: a department's request
(退单 return, 延期 extension, 缓办 suspension) is a CaseRequest the command
centre decides; merge and reopen are transitions of their own. Requests and a
suspension belong to the assignment in hand: when the case leaves DISPATCHED,
pending requests are withdrawn and the suspension ends.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    OPEN_STATUSES,
    STAGE_OF_STATUS,
    UNIT_CHOICES,
    Case,
    CaseEvent,
    CaseRequest,
    Category,
    Channel,
    Severity,
    SlaLevel,
    Status,
)
from cases.sla import time_limit
from governance.calendar import Unit, get_calendar
from governance.models import Department
from grids import selectors as grid_selectors


class CaseTransitionError(ValueError):
    """The case is not in a state this transition may start from."""


# 退单: a department may dispute an assignment only this soon after it arrives, on the
# working calendar, so a case cannot bounce back after it has quietly sat for days.
def return_window() -> tuple[Decimal, Unit]:
    """How long after dispatch a department may return a case (settings.CASE_RETURN_WINDOW_WORKING_HOURS)."""
    return Decimal(settings.CASE_RETURN_WINDOW_WORKING_HOURS), Unit.WORKING_HOURS


Kind, Decision = CaseRequest.Kind, CaseRequest.Decision


def case_report(
    *,
    channel: str,
    description: str,
    lng: float | None = None,
    lat: float | None = None,
    address: str = "",
    reporter=None,
    category: Category | None = None,
    severity: str | None = None,
    citizen_name: str = "",
    citizen_phone: str = "",
    external_system: str = "",
    external_id: str = "",
) -> Case:
    """File a new case; its cell is looked up in the active grid and kept for good."""
    description = description.strip()
    if not description:
        raise ValidationError({"description": _("Describe the problem.")})
    location, cell = _locate(lng, lat)
    with transaction.atomic():
        case = Case(
            channel=Channel(channel), description=description, location=location, address=address.strip(),
            reporter=reporter, category=category, severity=Severity(severity or _default_severity(category)),
            department=category.default_department if category else None, citizen_name=citizen_name.strip(),
            citizen_phone=citizen_phone.strip(), external_system=external_system, external_id=external_id,
            cell=cell, grid_version=cell.version if cell else None,
        )  # fmt: skip
        case.full_clean(exclude=["number"])
        _start_stage(case, Status.REPORTED, timezone.now())
        case.save()
        # Date + a database-assigned sequence: unique without a counter row writers would queue on.
        local_day = timezone.localtime(case.created_at).strftime("%Y%m%d")
        case.number = f"{local_day}{case.pk:07d}"
        case.save(update_fields=["number"])
        _log(case, "report", "", Status.REPORTED, reporter, "", {"channel": case.channel})
    return case


def case_register(
    *, case: Case, actor, category: Category, severity: str | None = None, department: Department | None = None
) -> Case:
    """立案: the report is a real case of this category, severity and department."""

    def change(locked: Case, now: datetime.datetime) -> dict:
        locked.category = category
        locked.severity = Severity(severity or category.default_severity)
        locked.department = department or category.default_department
        return {"category": category.code, "severity": locked.severity, "department": locked.department.code}

    return _transition(case, actor=actor, action="register", sources={Status.REPORTED}, target=Status.REGISTERED,
                       change=change)  # fmt: skip


def case_reject(*, case: Case, actor, reason: str) -> Case:
    """不予立案: not a case for the city (duplicate, out of scope, not a problem), with a reason."""
    _require_reason(reason)
    return _transition(case, actor=actor, action="reject", sources={Status.REPORTED}, target=Status.REJECTED,
                       reason=reason)  # fmt: skip


def case_dispatch(*, case: Case, actor, department: Department | None = None) -> Case:
    """派遣: the department takes the case; the handling clock starts."""

    def change(locked: Case, now: datetime.datetime) -> dict:
        locked.department = department or locked.department
        if locked.department is None:
            raise ValidationError({"department": _("Choose the department to dispatch to.")})
        amount, unit = return_window()
        locked.dispatched_at, locked.accepted_at = now, None
        # 响应: the department should accept (签收) while it could still return the case.
        locked.response_due = get_calendar().add(now, amount, unit)
        return {"department": locked.department.code}

    return _transition(case, actor=actor, action="dispatch", sources={Status.REGISTERED}, target=Status.DISPATCHED,
                       change=change)  # fmt: skip


def case_handle(*, case: Case, actor, note: str = "") -> Case:
    """处置: the department reports the problem solved; verification on site is next."""

    def change(locked: Case, now: datetime.datetime) -> dict:
        locked.handled_at = now
        return {}

    return _transition(case, actor=actor, action="handle", sources={Status.DISPATCHED}, target=Status.HANDLED,
                       reason=note, change=change)  # fmt: skip


def case_accept(*, case: Case, actor, note: str = "") -> Case:
    """签收: the department acknowledges the dispatched case; the status stays, the history records who and when."""
    with transaction.atomic():
        locked = _lock(case, sources={Status.DISPATCHED}, action="accept")
        assigned = locked.events.filter(action__in=["dispatch", "rework", "reopen"]).latest("pk")
        if locked.events.filter(action="accept", pk__gt=assigned.pk).exists():
            raise CaseTransitionError(_("Case %(number)s was already accepted.") % {"number": locked.number})
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at", "updated_at"])
        _log(locked, "accept", Status.DISPATCHED, Status.DISPATCHED, actor, note, {})
    _sync(case, locked)
    return case


def case_verify(*, case: Case, actor, passed: bool, reason: str = "") -> Case:
    """核查: on site, the problem is gone (verified) or not (返工: back to the department)."""

    def change(locked: Case, now: datetime.datetime) -> dict:
        locked.verified_at, locked.verified_by = now, actor
        if not passed:
            locked.rework_count += 1
        return {}

    if passed:
        return _transition(case, actor=actor, action="verify", sources={Status.HANDLED}, target=Status.VERIFIED,
                           reason=reason, change=change)  # fmt: skip
    _require_reason(reason)
    return _transition(case, actor=actor, action="rework", sources={Status.HANDLED}, target=Status.DISPATCHED,
                       reason=reason, change=change)  # fmt: skip


def case_close(*, case: Case, actor, reason: str = "") -> Case:
    """结案. A hotline case closes through its callback (回访); closing it without one needs a reason."""

    def change(locked: Case, now: datetime.datetime) -> dict:
        if locked.channel == Channel.HOTLINE and locked.callback_at is None and not reason.strip():
            raise ValidationError(
                {"reason": _("A 12345 case closes after its callback; say why it closes without one.")}
            )
        return {}

    return _transition(case, actor=actor, action="close", sources={Status.VERIFIED}, target=Status.CLOSED,
                       reason=reason, change=change)  # fmt: skip


def case_callback(
    *, case: Case, actor, reached: bool, solved: bool | None = None, satisfied: bool | None = None, note: str = ""
) -> Case:
    """回访: the citizen is asked whether the problem was solved and whether they are satisfied.

    Not reached: the attempt is recorded and the callback clock keeps running.
    Solved: the case closes. Not solved: back to the department, a fresh handling clock.
    """
    if not reached:
        _require_reason(note)
        with transaction.atomic():
            locked = _lock(case, sources={Status.VERIFIED}, action="callback")
            _log(locked, "callback_attempt", locked.status, locked.status, actor, note.strip(), {"reached": False})
        _sync(case, locked)
        return case
    errors = {}
    if solved is None:
        errors["solved"] = _("Record whether the citizen says the problem is solved.")
    if satisfied is None:
        errors["satisfied"] = _("Record whether the citizen is satisfied.")
    if errors:
        raise ValidationError(errors)
    if not solved:
        _require_reason(note)

    def change(locked: Case, now: datetime.datetime) -> dict:
        locked.callback_at, locked.callback_solved, locked.callback_satisfied = now, solved, satisfied
        if not solved and locked.department is None:
            raise ValidationError({"department": _("The case has no department to go back to.")})
        return {"reached": True, "solved": solved, "satisfied": satisfied}

    return _transition(case, actor=actor, action="callback", sources={Status.VERIFIED},
                       target=Status.CLOSED if solved else Status.DISPATCHED, reason=note.strip(),
                       change=change)  # fmt: skip


# --- side paths: requests the command centre decides -------------------------------


def case_request_return(*, case: Case, actor, reason: str) -> CaseRequest:
    """退单: the department disputes the assignment, within return_window() of the dispatch."""
    request = CaseRequest(case=case, kind=Kind.RETURN, reason=reason, requested_by=actor)
    return _request(request, check=_check_return_window)


def case_request_extension(*, case: Case, actor, reason: str, amount: Decimal | int | str, unit: str) -> CaseRequest:
    """延期: the department asks for `amount` `unit` more to handle the case."""
    request = CaseRequest(case=case, kind=Kind.EXTENSION, reason=reason, amount=amount, unit=unit, requested_by=actor)
    return _request(request)


def case_request_suspension(*, case: Case, actor, reason: str) -> CaseRequest:
    """缓办: the department asks to stop the clock (waiting for a season, a permit, an owner)."""
    request = CaseRequest(case=case, kind=Kind.SUSPENSION, reason=reason, requested_by=actor)
    return _request(request, check=_check_not_suspended)


def case_decide_request(
    *, request: CaseRequest, actor, approve: bool, note: str = "", department: Department | None = None
) -> CaseRequest:
    """The command centre approves or refuses (with a note) a pending request.

    An approved return may name the department to re-dispatch to at once.
    """
    note = note.strip()
    if not approve and not note:
        raise ValidationError({"note": _("Say why the request is refused; the department will read it.")})
    if department is not None and not (approve and request.kind == Kind.RETURN):
        raise ValidationError({"department": _("Only an approved return is re-dispatched to a department.")})
    with transaction.atomic():
        # The case first, as every transition does, so a decision and a transition queue in one order.
        case = Case.objects.select_for_update().get(pk=request.case_id)
        pending = CaseRequest.objects.select_for_update().get(pk=request.pk)
        if pending.decision != Decision.PENDING:
            raise CaseTransitionError(
                _("This request was already decided (%(decision)s).") % {"decision": pending.get_decision_display()}
            )
        pending.decision = Decision.APPROVED if approve else Decision.REFUSED
        pending.decided_by, pending.decided_at, pending.decision_note = actor, timezone.now(), note
        pending.save()
        if approve:
            _APPROVE[pending.kind](case, pending, actor=actor, department=department)
        else:
            _log(case, f"refuse_{pending.kind}", case.status, case.status, actor, note, {"request": pending.pk})
    request.refresh_from_db()  # which also drops the cached case: request.case is read afresh
    return request


def case_resume(*, case: Case, actor) -> Case:
    """缓办 ends: the clock runs again and the stage's deadline moves later by the paused time."""
    with transaction.atomic():
        locked = _lock(case, sources={Status.DISPATCHED}, action="resume")
        if locked.suspended_at is None:
            raise CaseTransitionError(_("Case %(number)s is not suspended.") % {"number": locked.number})
        now = timezone.now()
        field = f"{locked.current_stage}_due"
        old_due = getattr(locked, field)
        new_due, credit = _credit_pause(locked, old_due, now)
        data = {"suspended_at": _iso(locked.suspended_at), "paused_seconds": _seconds(now - locked.suspended_at),
                "credited_seconds": _seconds(credit), "old_due": _iso(old_due), "new_due": _iso(new_due)}  # fmt: skip
        setattr(locked, field, new_due)
        locked.suspended_at = None
        locked.reset_yellow_at()
        locked.sla_level = SlaLevel.GREEN  # a new deadline: the sweep judges it afresh
        locked.save(update_fields=[field, "suspended_at", "yellow_at", "sla_level", "updated_at"])
        _log(locked, "resume", locked.status, locked.status, actor, "", data)
    _sync(case, locked)
    return case


# --- side paths: merge and reopen ---------------------------------------------------


def case_merge(*, case: Case, into: Case, actor, reason: str) -> Case:
    """并单: `case` reports the same problem as `into`; it closes now and points to `into` for good."""
    _require_reason(reason)
    if case.pk == into.pk:
        raise ValidationError({"into": _("A case cannot be merged into itself.")})
    with transaction.atomic():
        # Both rows, always in pk order, so two opposite merges cannot deadlock.
        both = Case.objects.select_for_update().filter(pk__in=[case.pk, into.pk]).order_by("pk")
        target = {row.pk: row for row in both}[into.pk]
        if target.status not in OPEN_STATUSES or target.merged_into_id:
            raise CaseTransitionError(
                _("Case %(number)s is %(status)s; nothing can be merged into it.")
                % {"number": target.number, "status": target.get_status_display()}
            )

        def change(locked: Case, now: datetime.datetime) -> dict:
            locked.merged_into = target
            return {"into": target.number}

        _transition(case, actor=actor, action="merge", sources=set(OPEN_STATUSES), target=Status.CLOSED,
                    reason=reason, change=change)  # fmt: skip
        _log(target, "absorb", target.status, target.status, actor, reason, {"case": case.number})
        # Cases merged into this one earlier follow it, so every pointer names an open or truly closed case.
        for earlier in Case.objects.select_for_update().filter(merged_into=case):
            earlier.merged_into = target
            earlier.save(update_fields=["merged_into", "updated_at"])
            _log(earlier, "merge", earlier.status, earlier.status, actor, reason,
                 {"into": target.number, "via": case.number})  # fmt: skip
    return case


def case_reopen(*, case: Case, actor, reason: str) -> Case:
    """A closed case comes back (e.g. the callback says "not solved"): same department, fresh handling clock."""
    _require_reason(reason)

    def change(locked: Case, now: datetime.datetime) -> dict:
        if locked.merged_into_id:
            raise CaseTransitionError(
                _("Case %(number)s was merged into %(into)s; reopen that case instead.")
                % {"number": locked.number, "into": locked.merged_into.number}
            )
        if locked.department is None:
            raise ValidationError({"department": _("The case has no department to go back to.")})
        locked.closed_at = None
        return {"department": locked.department.code}

    return _transition(case, actor=actor, action="reopen", sources={Status.CLOSED}, target=Status.DISPATCHED,
                       reason=reason, change=change)  # fmt: skip


# --- side paths: the machinery ------------------------------------------------------


def _request(request: CaseRequest, *, check=None) -> CaseRequest:
    _require_reason(request.reason)
    request.reason = request.reason.strip()
    request.full_clean(validate_constraints=False)  # the pending constraint is checked under the lock below
    if request.kind == Kind.EXTENSION:
        _require_extra_time(request)
    action = f"request_{request.kind}"
    with transaction.atomic():
        locked = _lock(request.case, sources={Status.DISPATCHED}, action=action)
        if check:
            check(locked)
        request.case = locked
        _save_pending(request)
        data = {"request": request.pk}
        if request.amount is not None:
            data |= {"amount": _amount(request.amount), "unit": request.unit}
        _log(locked, action, locked.status, locked.status, request.requested_by, request.reason, data)
    return request


def _save_pending(request: CaseRequest) -> None:
    taken = ValidationError(
        _("A %(kind)s request for this case is already waiting for a decision.") % {"kind": request.get_kind_display()}
    )
    # Under the case lock this check is what a second click meets; the partial unique
    # constraint stays the backstop, and its IntegrityError must not become a 500.
    if CaseRequest.objects.filter(case=request.case, kind=request.kind, decision=Decision.PENDING).exists():
        raise taken
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as error:
        raise taken from error


def _require_extra_time(request: CaseRequest) -> None:
    errors = {}
    if request.amount is None or request.amount <= 0:
        errors["amount"] = _("Ask for a positive amount of extra time.")
    if not request.unit:
        errors["unit"] = _("Choose the unit of the extra time.")
    if errors:
        raise ValidationError(errors)


def _check_return_window(case: Case) -> None:
    assigned = case.events.filter(action__in=["dispatch", "rework", "reopen"]).latest("pk")
    values = {"number": case.number}
    if assigned.action != "dispatch":
        raise CaseTransitionError(
            _("Case %(number)s came back to the department after handling; it can no longer be returned.") % values
        )
    if case.requests.filter(kind=Kind.RETURN, decision=Decision.REFUSED, created_at__gte=assigned.created_at).exists():
        raise CaseTransitionError(_("A return of case %(number)s was already refused; it stays.") % values)
    amount, unit = return_window()
    closes = get_calendar().add(assigned.created_at, amount, unit)
    if timezone.now() > closes:
        values |= {"window": f"{amount:f} {dict(UNIT_CHOICES)[unit.value]}", "closes": _minute(closes)}
        raise CaseTransitionError(
            _("Case %(number)s could be returned only within %(window)s of its dispatch, until %(closes)s.") % values
        )


def _check_not_suspended(case: Case) -> None:
    if case.suspended_at is not None:
        raise CaseTransitionError(
            _("Case %(number)s is already suspended since %(since)s.")
            % {"number": case.number, "since": _minute(case.suspended_at)}
        )


def _approve_return(case: Case, request: CaseRequest, *, actor, department: Department | None) -> None:
    returning = case.department
    if department is not None and department == returning:
        raise ValidationError(
            {"department": _("That department returned the case; refuse the return to leave it there.")}
        )

    def change(locked: Case, now: datetime.datetime) -> dict:
        # The wrong assignment's time, so measures can leave it off the returning department.
        assigned = locked.events.filter(action="dispatch").latest("pk").created_at
        locked.department = None
        locked.dispatched_at = locked.response_due = locked.accepted_at = None
        return {"request": request.pk, "department": returning.code, "dispatched_at": _iso(assigned),
                "not_charged_seconds": _seconds(now - assigned),
                "not_charged_working_seconds": _seconds(get_calendar().working_between(assigned, now))}  # fmt: skip

    _transition(case, actor=actor, action="return", sources={Status.DISPATCHED}, target=Status.REGISTERED,
                reason=request.reason, change=change)  # fmt: skip
    if department is not None:
        case_dispatch(case=case, actor=actor, department=department)


def _approve_extension(case: Case, request: CaseRequest, *, actor, department=None) -> None:
    _guard(case, {Status.DISPATCHED}, "extend")
    field = f"{case.current_stage}_due"
    old_due = getattr(case, field)
    new_due = get_calendar().add(old_due, request.amount, request.unit)
    setattr(case, field, new_due)
    case.extension_count += 1
    case.reset_yellow_at()
    case.sla_level = SlaLevel.GREEN  # a new deadline: the sweep judges it afresh
    case.save(update_fields=[field, "extension_count", "yellow_at", "sla_level", "updated_at"])
    data = {"request": request.pk, "amount": _amount(request.amount), "unit": request.unit, "old_due": _iso(old_due),
            "new_due": _iso(new_due)}  # fmt: skip
    _log(case, "extend", case.status, case.status, actor, request.reason, data)


def _approve_suspension(case: Case, request: CaseRequest, *, actor, department=None) -> None:
    _guard(case, {Status.DISPATCHED}, "suspend")
    _check_not_suspended(case)
    case.suspended_at = timezone.now()
    case.save(update_fields=["suspended_at", "updated_at"])
    _log(case, "suspend", case.status, case.status, actor, request.reason, {"request": request.pk})


_APPROVE = {Kind.RETURN: _approve_return, Kind.EXTENSION: _approve_extension, Kind.SUSPENSION: _approve_suspension}


def _credit_pause(case: Case, due: datetime.datetime, now: datetime.datetime):
    """The deadline moved by the pause, counted in the stage's own kind of time."""
    unit = time_limit(stage=case.current_stage, category=case.category, severity=case.severity).unit
    if unit in (Unit.MINUTES, Unit.HOURS):
        credit = now - case.suspended_at
        return due + credit, credit
    calendar = get_calendar()
    # Only working time is credited: a pause over a holiday gives back what the holiday did not.
    credit = calendar.working_between(case.suspended_at, now)
    return calendar.add_working(due, credit), credit


def _leave_assignment(case: Case, actor, now: datetime.datetime) -> dict:
    """Requests and a suspension belong to the assignment in hand; leaving DISPATCHED ends them."""
    data = {}
    pending = case.requests.filter(decision=Decision.PENDING)
    if withdrawn := list(pending.values_list("pk", flat=True)):
        pending.update(decision=Decision.REFUSED, decided_by=actor, decided_at=now,
                       decision_note=_("Withdrawn: the case left the department's hands."))  # fmt: skip
        data["withdrawn_requests"] = withdrawn
    if case.suspended_at is not None:
        data["suspended_since"] = _iso(case.suspended_at)
        case.suspended_at = None
    return data


def _iso(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def _minute(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _amount(amount: Decimal) -> str:
    # "2", not "2" here and "2.00" once read back from the database.
    return f"{amount.normalize():f}"


def _seconds(duration: datetime.timedelta) -> int:
    return round(duration.total_seconds())


# --- the machinery -----------------------------------------------------------------


def _transition(case: Case, *, actor, action: str, sources: set, target: str, reason: str = "", change=None) -> Case:
    with transaction.atomic():
        locked = _lock(case, sources=sources, action=action)
        source, now = locked.status, timezone.now()
        data = change(locked, now) if change else {}
        if source == Status.DISPATCHED:
            data |= _leave_assignment(locked, actor, now)
        _start_stage(locked, target, now)
        if target in (Status.CLOSED, Status.REJECTED):
            locked.closed_at = now
        locked.status = target
        locked.save()
        _log(locked, action, source, target, actor, reason, data)
    _sync(case, locked)
    return case


def _sync(case: Case, locked: Case) -> None:
    """The caller's instance becomes what was committed: the locked row as saved (no second read)."""
    if case is locked:
        return
    for field in Case._meta.concrete_fields:
        setattr(case, field.attname, getattr(locked, field.attname))
    case._state.fields_cache = dict(locked._state.fields_cache)
    case.__dict__.pop("_prefetched_objects_cache", None)


def _lock(case: Case, *, sources, action: str) -> Case:
    # The lock, then the guard: two dispatchers clicking at once cannot both win.
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _guard(locked, sources, action)
    return locked


def _guard(case: Case, sources, action: str) -> None:
    if case.status not in sources:
        raise CaseTransitionError(
            _("Case %(number)s is %(status)s; it cannot be %(action)s now.")
            % {"number": case.number, "status": case.get_status_display(), "action": _action_label(action)}
        )


def _start_stage(case: Case, status: str, now: datetime.datetime) -> None:
    """Restart the clock of the stage this status runs (none for rejected and closed)."""
    stage = STAGE_OF_STATUS.get(status)
    case.stage_started_at = now if stage else None
    case.sla_level = SlaLevel.GREEN  # a fresh clock; the sweep judges it again
    if stage is None:
        case.yellow_at = None
        return
    limit = time_limit(stage=stage, category=case.category, severity=case.severity)
    setattr(case, f"{stage}_due", limit.deadline(timezone.localtime(now), get_calendar()))
    case.status = status  # current_due follows the status
    case.reset_yellow_at()


def _log(case: Case, action: str, source: str, target: str, actor, reason: str, data: dict) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, action=action, from_status=source, to_status=target, actor=actor, reason=reason, data=data
    )


def _locate(lng, lat):
    if lng is None and lat is None:
        return None, None
    try:
        lng, lat = grid_selectors.validate_point(lng=lng, lat=lat)
    except (TypeError, ValueError) as error:
        raise ValidationError({"location": str(error)}) from error
    return Point(lng, lat, srid=4326), grid_selectors.cell_lookup(lng=lng, lat=lat)


def _default_severity(category: Category | None) -> str:
    return category.default_severity if category else Severity.NORMAL


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("Give a reason; it is kept in the case's history.")})


def _action_label(action: str) -> str:
    labels = {
        "accept": _("accepted"), "register": _("registered"), "reject": _("rejected"),
        "dispatch": _("dispatched"), "handle": _("handled"),
        "verify": _("verified"), "rework": _("sent back for rework"), "close": _("closed"),
        "request_return": _("returned"), "return": _("returned"), "request_extension": _("extended"),
        "extend": _("extended"), "request_suspension": _("suspended"), "suspend": _("suspended"),
        "resume": _("resumed"), "merge": _("merged"), "reopen": _("reopened"), "callback": _("called back"),
    }  # fmt: skip
    return labels.get(action, action)
