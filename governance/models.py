from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

department_code_validator = RegexValidator(r"^[A-Z]{2}$", _("A department code is two capital letters."))
region_code_validator = RegexValidator(r"^\d{6}(\d{3}){0,2}$", _("A region code has 6, 9 or 12 digits."))
phone_validator = RegexValidator(
    r"^(1\d{10}|0\d{2,3}-?\d{7,8}|\d{3,8})$",
    _("Enter a mobile number (11 digits), a landline like 0574-87654321, or a short hotline number."),
)


class Department(models.Model):
    """A functional department that cases are dispatched to (see domain §3)."""

    code = models.CharField(_("code"), max_length=2, unique=True, validators=[department_code_validator])
    name = models.CharField(_("name"), max_length=64)
    duties = models.CharField(_("typical work"), max_length=200, blank=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
        help_text=_("Receives escalations (督办) of this department's overdue cases."),
    )
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True, validators=[phone_validator])
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return f"{self.code} {self.name}"


class Region(models.Model):
    """A unit of the administrative hierarchy: district → street → community.

    Codes follow GB/T 2260 and its extensions: 6 digits for a district, 3 more
    for a street, 3 more for a community, so a child's code always starts with
    its parent's.
    """

    class Level(models.TextChoices):
        DISTRICT = "district", _("district")
        STREET = "street", _("street")
        COMMUNITY = "community", _("community")

    CODE_LENGTH = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
    PARENT_LEVEL = {Level.STREET: Level.DISTRICT, Level.COMMUNITY: Level.STREET}

    code = models.CharField(_("code"), max_length=12, unique=True, validators=[region_code_validator])
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    boundary = models.MultiPolygonField(_("boundary"), srid=settings.STORAGE_SRID, null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative region")
        verbose_name_plural = _("administrative regions")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        expected = self.CODE_LENGTH.get(self.level)
        if expected and len(self.code or "") != expected:
            raise ValidationError(
                {"code": _("A %(level)s code has %(n)d digits.") % {"level": self.get_level_display(), "n": expected}}
            )
        parent_level = self.PARENT_LEVEL.get(self.level)
        if parent_level is None:
            if self.parent_id:
                raise ValidationError({"parent": _("A district has no parent region.")})
            return
        if self.parent is None or self.parent.level != parent_level:
            raise ValidationError({"parent": _("The parent must be a %(level)s.") % {"level": parent_level.label}})
        if not self.code.startswith(self.parent.code):
            raise ValidationError(
                {"code": _("The code must start with the parent's code %(code)s.") % {"code": self.parent.code}}
            )


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    GRID_LEADER = "grid_leader", _("grid leader")
    HOTLINE_AGENT = "hotline_agent", _("hotline agent")
    DISPATCHER = "dispatcher", _("dispatcher")
    DEPARTMENT_ADMIN = "department_admin", _("department admin")
    DEPARTMENT_HANDLER = "department_handler", _("department handler")
    LEADER = "leader", _("leader")
    SYSTEM_ADMIN = "system_admin", _("system admin")


DEPARTMENT_ROLES = {Role.DEPARTMENT_ADMIN, Role.DEPARTMENT_HANDLER}
FIELD_ROLES = {Role.GRID_WORKER, Role.GRID_LEADER}


class StaffProfile(models.Model):
    """What the product knows of a person beyond their login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("The street or community a grid worker or grid leader works in."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self):
        return f"{self.user.get_username()} ({self.get_role_display()})"

    def clean(self):
        if self.role in DEPARTMENT_ROLES and not self.department_id:
            raise ValidationError({"department": _("Department staff must belong to a department.")})
        if self.role in FIELD_ROLES and not self.region_id:
            raise ValidationError({"region": _("Grid workers and grid leaders must have a region.")})


class CalendarOverride(models.Model):
    """An admin's word on one date; it wins over the chinese-calendar package."""

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self):
        return f"{self.date} {self.note}"
