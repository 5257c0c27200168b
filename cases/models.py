"""Cases (案卷) and what they are measured by: taxonomy, severity, stage limits, the event log.

A case's stage deadlines are stored columns, recomputed by the lifecycle
services on every transition, so the SLA sweep reads them through partial
indexes instead of computing anything per row. The event log is append-only:
the model refuses updates and deletes, and database triggers refuse them too.
"""

from fractions import Fraction

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.calendar import Unit
from governance.models import Department
from grids.models import Cell, GridVersion

UNIT_CHOICES = [
    (Unit.MINUTES.value, _("minutes")),
    (Unit.HOURS.value, _("hours")),
    (Unit.WORKING_HOURS.value, _("working hours")),
    (Unit.WORKING_DAYS.value, _("working days")),
]


class Severity(models.TextChoices):
    """Named, never numbered: 一级 means opposite ends in different cities."""

    CRITICAL = "critical", _("critical (特急)")
    URGENT = "urgent", _("urgent (紧急)")
    NORMAL = "normal", _("normal (一般)")
    MINOR = "minor", _("minor (轻微)")


class Category(models.Model):
    """A 数字城管 category: event (事件) or component (部件), 2-digit class + 2-digit subclass."""

    class Kind(models.TextChoices):
        EVENT = "event", _("event (事件)")
        COMPONENT = "component", _("component (部件)")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=4, help_text=_("2-digit class + 2-digit subclass, e.g. 0102."))
    name = models.CharField(_("name"), max_length=60)
    class_name = models.CharField(_("class"), max_length=60, blank=True)
    description = models.TextField(_("description"), blank=True)
    default_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="categories", verbose_name=_("default department")
    )
    default_severity = models.CharField(_("default severity"), max_length=10, choices=Severity.choices)
    handling_amount = models.DecimalField(_("handling limit"), max_digits=7, decimal_places=2)
    handling_unit = models.CharField(_("handling limit unit"), max_length=16, choices=UNIT_CHOICES)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="category_code_unique_per_kind"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{4}$"), name="category_code_four_digits"),
            models.CheckConstraint(condition=Q(handling_amount__gt=0), name="category_handling_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Stage(models.TextChoices):
    REGISTRATION = "registration", _("registration (立案)")
    DISPATCH = "dispatch", _("dispatch (派遣)")
    HANDLING = "handling", _("handling (处置)")
    VERIFICATION = "verification", _("verification (核查)")
    CALLBACK = "callback", _("callback (回访)")


class SlaPolicy(models.Model):
    """A stage's time limit for a category and severity; either may be blank, meaning any.

    The most specific row wins: (category, severity), then (category, any),
    then (any, severity), then (any, any).
    """

    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="policies", verbose_name=_("category")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=16, choices=UNIT_CHOICES)

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        ordering = ["stage", "category__code", "severity"]
        constraints = [
            # Four partial constraints: NULL category rows would never collide in a plain one.
            models.UniqueConstraint(fields=["stage", "category", "severity"], condition=Q(category__isnull=False),
                                    name="policy_unique_with_category"),
            models.UniqueConstraint(fields=["stage", "severity"], condition=Q(category__isnull=True),
                                    name="policy_unique_without_category"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="policy_amount_positive"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.get_stage_display()} {self.category or '*'} {self.severity or '*'}: {self.amount} {self.unit}"


class Channel(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    HOTLINE = "hotline", _("12345 hotline")
    API = "api", _("API")
    OTHER = "other", _("other")


class Status(models.TextChoices):
    REPORTED = "reported", _("reported (上报)")
    REGISTERED = "registered", _("registered (立案)")
    REJECTED = "rejected", _("rejected (不予立案)")
    DISPATCHED = "dispatched", _("dispatched (派遣)")
    HANDLED = "handled", _("handled (处置)")
    VERIFIED = "verified", _("verified (核查)")
    CLOSED = "closed", _("closed (结案)")


OPEN_STATUSES = [Status.REPORTED, Status.REGISTERED, Status.DISPATCHED, Status.HANDLED, Status.VERIFIED]
# The stage whose clock runs in each open status, and the column holding its deadline.
STAGE_OF_STATUS = {
    Status.REPORTED: Stage.REGISTRATION,
    Status.REGISTERED: Stage.DISPATCH,
    Status.DISPATCHED: Stage.HANDLING,
    Status.HANDLED: Stage.VERIFICATION,
    Status.VERIFIED: Stage.CALLBACK,
}


# A stage is "due soon" (yellow) once this share of its allowed time has elapsed.
YELLOW_SHARE = Fraction(4, 5)


class SlaLevel(models.TextChoices):
    GREEN = "green", _("on time")
    YELLOW = "yellow", _("due soon")
    RED = "red", _("overdue")


class Case(models.Model):
    """A report that must be closed in time (案卷)."""

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, editable=False)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reported_cases",
        verbose_name=_("reporter"),
    )  # fmt: skip
    citizen_name = models.CharField(_("citizen's name"), max_length=60, blank=True)
    citizen_phone = models.CharField(_("citizen's phone"), max_length=20, blank=True)
    description = models.TextField(_("description"))
    location = models.PointField(_("location"), srid=settings.STORAGE_SRID, null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    cell = models.ForeignKey(
        Cell, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("grid cell")
    )
    grid_version = models.ForeignKey(
        GridVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
        verbose_name=_("grid version"),
    )  # fmt: skip
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("category")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("department")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED)
    stage_started_at = models.DateTimeField(_("current stage started"), null=True, blank=True)
    registration_due = models.DateTimeField(_("registration due"), null=True, blank=True)
    dispatch_due = models.DateTimeField(_("dispatch due"), null=True, blank=True)
    handling_due = models.DateTimeField(_("handling due"), null=True, blank=True)
    verification_due = models.DateTimeField(_("verification due"), null=True, blank=True)
    callback_due = models.DateTimeField(_("callback due"), null=True, blank=True)
    external_system = models.CharField(_("external system"), max_length=40, blank=True)
    external_id = models.CharField(_("external id"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The SLA sweep's verdict on the running stage: green, yellow at 80 % of the allowed time, red on breach.
    sla_level = models.CharField(_("deadline state"), max_length=6, choices=SlaLevel.choices, default=SlaLevel.GREEN)
    # When the running stage turns yellow (80 % of stage_started_at → its due), kept with the due
    # by the services, so the sweep finds what turns yellow by an index range, like what is overdue.
    yellow_at = models.DateTimeField(_("due soon from"), null=True, blank=True, editable=False)
    # 缓办: while suspended the clock stands still; the paused time is credited when it resumes.
    suspended_at = models.DateTimeField(_("suspended since"), null=True, blank=True)
    extension_count = models.PositiveSmallIntegerField(_("approved extensions"), default=0)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases",
        verbose_name=_("merged into"),
    )  # fmt: skip
    # What the measures (domain §7) count, kept by the lifecycle services so that a
    # KPI over a million cases is one GROUP BY, not a walk through the event log.
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    response_due = models.DateTimeField(_("acceptance due"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("sent back for rework"), default=0)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("verified by"),
    )  # fmt: skip
    callback_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    callback_solved = models.BooleanField(_("solved (callback)"), null=True, blank=True)
    callback_satisfied = models.BooleanField(_("satisfied (callback)"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["external_system", "external_id"], condition=~Q(external_id=""),
                                    name="case_external_id_unique"),
        ]  # fmt: skip
        indexes = (
            [
                # The SLA sweep reads the running stage's deadline of open cases only.
                # What breaches next: rows not yet red, by deadline. Red rows leave it once escalated.
                models.Index(
                    fields=[f"{STAGE_OF_STATUS[s]}_due"],
                    condition=Q(status=s) & ~Q(sla_level="red"),
                    name=f"case_{s}_due",
                )
                for s in OPEN_STATUSES
            ]
            + [
                # What turns yellow next: green rows by the moment they do.
                models.Index(fields=["yellow_at"], condition=Q(status=s, sla_level="green"), name=f"case_{s}_yellow")
                for s in OPEN_STATUSES
            ]
            + [
                # Yellow or red rows whose deadline moved later (an extension, a resumed suspension): few.
                models.Index(
                    fields=[f"{STAGE_OF_STATUS[s]}_due"],
                    condition=Q(status=s) & ~Q(sla_level="green"),
                    name=f"case_{s}_flagged",
                )
                for s in OPEN_STATUSES
            ]
            + [
                models.Index(fields=["department", "status"]),
                models.Index(fields=["cell", "status"]),
                # The measures' periods: cases due, dispatched, handled in a month.
                models.Index(fields=["handling_due"], name="case_handling_due_all"),
                models.Index(fields=["dispatched_at"], name="case_dispatched_at"),
            ]
        )

    def __str__(self):
        return self.number or f"#{self.pk}"

    @property
    def current_stage(self) -> str | None:
        return STAGE_OF_STATUS.get(self.status)

    @property
    def current_due(self):
        stage = self.current_stage
        return getattr(self, f"{stage}_due") if stage else None

    def reset_yellow_at(self) -> None:
        """After the running stage's start or deadline changed: 80 % of the way from one to the other."""
        due = self.current_due
        if due is None or self.stage_started_at is None:
            self.yellow_at = None
            return
        allowed = due - self.stage_started_at
        self.yellow_at = self.stage_started_at + allowed * YELLOW_SHARE.numerator / YELLOW_SHARE.denominator


EVENT_LABELS = {
    "report": _("reported"), "register": _("registered"), "reject": _("rejected"), "dispatch": _("dispatched"),
    "accept": _("accepted (签收)"), "handle": _("handled"), "verify": _("verified"),
    "rework": _("sent back for rework (返工)"), "close": _("closed"), "callback": _("called back (回访)"),
    "callback_attempt": _("callback attempt, not reached"), "request_return": _("asked to return (退单)"),
    "return": _("returned"), "refuse_return": _("return refused"), "request_extension": _("asked for an extension"),
    "extend": _("extended (延期)"), "refuse_extension": _("extension refused"),
    "request_suspension": _("asked to suspend"), "suspend": _("suspended (缓办)"),
    "refuse_suspension": _("suspension refused"), "resume": _("resumed"), "merge": _("merged (并单)"),
    "absorb": _("took in a duplicate"), "reopen": _("reopened"), "photo": _("photo added"),
}  # fmt: skip


class CaseEvent(models.Model):
    """One line of the case's history (全流程留痕). Written once, never changed or deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case"))
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(_("from"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("actor"),
    )  # fmt: skip
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "created_at", "pk"]

    def __str__(self):
        return f"{self.case} {self.action} {self.from_status}→{self.to_status}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise EventLogError("Case events are append-only.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EventLogError("Case events are append-only.")


class EventLogError(Exception):
    """Code tried to change the history; always a bug."""


def photo_path(photo: "CasePhoto", filename: str) -> str:
    # Never under a public URL: photos are served by a permission-checked view.
    return f"cases/{photo.case_id}/{photo.kind}-{filename}"


class CasePhoto(models.Model):
    class Kind(models.TextChoices):
        BEFORE = "before", _("before (处置前)")
        AFTER = "after", _("after (处置后)")
        EVIDENCE = "evidence", _("evidence")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="photos", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    image = models.ImageField(_("image"), upload_to=photo_path)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("uploaded by"),
    )  # fmt: skip
    taken_at = models.DateTimeField(_("taken at (EXIF)"), null=True, blank=True)
    taken_where = models.PointField(_("taken where (EXIF)"), srid=settings.STORAGE_SRID, null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        ordering = ["case", "created_at"]


class CaseRequest(models.Model):
    """A department's request that needs approval: 退单 return, 延期 extension, 缓办 suspension."""

    class Kind(models.TextChoices):
        RETURN = "return", _("return (退单)")
        EXTENSION = "extension", _("extension (延期)")
        SUSPENSION = "suspension", _("suspension (缓办)")

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="requests", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    reason = models.TextField(_("reason"))
    amount = models.DecimalField(_("extra time"), max_digits=7, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=16, choices=UNIT_CHOICES, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )  # fmt: skip
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at"]
        constraints = [
            # One open request of a kind per case: a second click cannot queue a duplicate.
            models.UniqueConstraint(fields=["case", "kind"], condition=Q(decision="pending"),
                                    name="one_pending_request_per_kind"),
        ]  # fmt: skip


class Escalation(models.Model):
    """督办: a breached stage deadline, escalated once. The unique key makes "once" a database fact."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="escalations", verbose_name=_("case"))
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    due = models.DateTimeField(_("deadline breached"))
    created_at = models.DateTimeField(_("escalated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "stage", "due"], name="escalate_each_breach_once")]


class Notification(models.Model):
    """The outbox: written in the transaction that decided to notify; a task delivers it after commit."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications", verbose_name=_("case")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications",
        verbose_name=_("recipient"),
    )  # fmt: skip
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    kind = models.CharField(_("kind"), max_length=20)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(delivered_at__isnull=True), name="outbox_undelivered")
        ]
