"""Departmental layers, unified grid versions, cells, crosswalk and assignments.

A layer is one import of one department's polygons; re-importing creates the
next layer version, so what a grid version was built from never changes. A
grid version is one run of the unification engine over the current layers;
it is a draft until activated, and its cells never change once published.
"""

import json

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.models import Department, Region


class Layer(models.Model):
    """One department's grid as imported once (专业网格); version counts per department."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="grid_layers", verbose_name=_("department")
    )
    version = models.PositiveIntegerField(_("version"))
    source_name = models.CharField(_("source file"), max_length=255)
    source_format = models.CharField(_("source format"), max_length=40)
    source_srs = models.CharField(_("source coordinate system"), max_length=255, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("imported by"),
    )  # fmt: skip
    report = models.JSONField(_("import report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("departmental layer")
        verbose_name_plural = _("departmental layers")
        ordering = ["department__code", "-version"]
        constraints = [models.UniqueConstraint(fields=["department", "version"], name="layer_version_unique")]

    def __str__(self):
        return f"{self.department.code} v{self.version}"


class LayerPolygon(models.Model):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="polygons", verbose_name=_("layer"))
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    geometry = models.MultiPolygonField(_("geometry"), srid=settings.STORAGE_SRID)
    repaired = models.BooleanField(_("repaired"), default=False, help_text=_("The source geometry was invalid."))

    class Meta:
        verbose_name = _("layer polygon")
        verbose_name_plural = _("layer polygons")
        ordering = ["layer", "code"]
        indexes = [models.Index(fields=["layer", "code"])]

    def __str__(self):
        return self.code


class GridVersionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=GridVersion.Status.ACTIVE)


class GridVersion(models.Model):
    """One unification run (MapIt's generation): draft → active → retired."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )  # fmt: skip
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    layers = models.ManyToManyField(Layer, related_name="grid_versions", verbose_name=_("input layers"))
    sliver_area_m2 = models.FloatField(_("sliver threshold (m²)"))
    sliver_width_m = models.FloatField(_("sliver width threshold (m)"), default=0.0)
    input_digest = models.CharField(_("input digest"), max_length=64, help_text=_("SHA-256 of the inputs."))
    cell_count = models.PositiveIntegerField(_("cells"), default=0)
    conflicts = models.JSONField(
        _("conflict summary"), default=dict, blank=True, help_text=_("Counts by kind; the items are conflict rows.")
    )

    objects = GridVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid version")
        verbose_name_plural = _("grid versions")
        ordering = ["-id"]
        constraints = [
            # At most one version answers lookups; activation swaps inside one transaction.
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="one_active_grid_version"),
        ]

    def __str__(self):
        return f"v{self.pk} ({self.get_status_display()})"

    @property
    def is_published(self) -> bool:
        return self.status != self.Status.DRAFT

    def delete(self, *args, **kwargs):
        # Cases and statistics point at published cells; only a draft may go.
        if self.is_published:
            raise PublishedVersionError(f"Grid version {self.pk} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)


class PublishedVersionError(Exception):
    """Something tried to change a published grid version; that is a bug, not a user error."""


class ConflictItem(models.Model):
    """One finding of a unification run: an overlap, a gap, a merged sliver, land outside, a repair."""

    class Kind(models.TextChoices):
        SELF_OVERLAP = "self_overlap", _("overlap inside a layer")
        GAP = "gap", _("gap in a layer")
        SLIVER_MERGED = "sliver_merged", _("sliver merged")
        OUTSIDE = "outside", _("outside the jurisdiction")
        REPAIRED = "repaired", _("invalid geometry repaired")
        OTHER = "other", _("other import problem")

    version = models.ForeignKey(
        GridVersion, on_delete=models.CASCADE, related_name="conflict_items", verbose_name=_("version")
    )
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    department_code = models.CharField(_("department"), max_length=2, blank=True)
    polygons = models.JSONField(_("polygons"), default=list, blank=True)
    area_m2 = models.FloatField(_("area (m²)"), default=0.0)
    community_code = models.CharField(_("community"), max_length=12, blank=True)
    cell_code = models.CharField(_("cell"), max_length=15, blank=True)
    message = models.TextField(_("message"), blank=True)
    geometry = models.GeometryField(_("geometry"), srid=settings.STORAGE_SRID, null=True, blank=True)

    class Meta:
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")
        ordering = ["version", "number"]
        constraints = [models.UniqueConstraint(fields=["version", "number"], name="conflict_number_unique")]
        indexes = [
            models.Index(fields=["version", "kind"]),
            models.Index(fields=["version", "department_code"]),
        ]

    def as_item(self) -> dict:
        """The report-item shape of conflicts.json and the admin page (geometry as GeoJSON)."""
        item = {
            "kind": self.kind,
            "department": self.department_code or None,
            "polygons": self.polygons,
            "area_m2": self.area_m2,
            "community": self.community_code or None,
            "cell": self.cell_code or None,
            "geometry": json.loads(self.geometry.json) if self.geometry else None,
        }
        return item | ({"message": self.message} if self.message else {})


class CellQuerySet(models.QuerySet):
    def covering(self, point):
        """Cells whose closed area holds the point: a point on a shared edge matches both;
        ordering by code makes the choice deterministic (the lowest code wins)."""
        return self.filter(geometry__covers=point).order_by("code")


class Cell(models.Model):
    """A unified grid cell: 15-digit code = community code + 3-digit sequence."""

    version = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="cells", verbose_name=_("version"))
    code = models.CharField(_("code"), max_length=15)
    community = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="cells", verbose_name=_("community"))
    geometry = models.MultiPolygonField(_("geometry"), srid=settings.STORAGE_SRID)
    area_m2 = models.FloatField(_("area (m²)"))
    fallback_owner = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("fallback owner"),
        help_text=_("Set when no department's layer covers the cell: the street office answers (属地兜底)."),
    )  # fmt: skip

    objects = CellQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")
        ordering = ["version", "code"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="cell_code_unique_in_version")]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        if self.pk is not None and self.version.is_published:
            raise PublishedVersionError(f"Cell {self.code} belongs to a published grid version.")
        return super().save(*args, **kwargs)


class CrosswalkEntry(models.Model):
    """For one cell and one department: which departmental polygon, and what share of the cell lies in it."""

    cell = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="crosswalk", verbose_name=_("cell"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department"))
    polygon = models.ForeignKey(
        LayerPolygon, on_delete=models.PROTECT, related_name="crosswalk", verbose_name=_("layer polygon")
    )
    share = models.FloatField(_("share of the cell"))

    class Meta:
        verbose_name = _("crosswalk entry")
        verbose_name_plural = _("crosswalk")
        ordering = ["cell", "department__code", "-share"]
        constraints = [models.UniqueConstraint(fields=["cell", "polygon"], name="crosswalk_cell_polygon_unique")]


class CellAssignment(models.Model):
    """Who answers for a cell on the ground: one grid leader, several grid workers."""

    class Duty(models.TextChoices):
        LEADER = "grid_leader", _("grid leader")
        WORKER = "grid_worker", _("grid worker")

    cell = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("cell"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cell_assignments", verbose_name=_("user")
    )
    duty = models.CharField(_("duty"), max_length=20, choices=Duty.choices)
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cell assignment")
        verbose_name_plural = _("cell assignments")
        ordering = ["cell", "duty", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["cell", "user"], name="assignment_once_per_cell"),
            models.UniqueConstraint(fields=["cell"], condition=Q(duty="grid_leader"), name="one_leader_per_cell"),
        ]

    def __str__(self):
        return f"{self.cell.code} {self.get_duty_display()} {self.user}"


class LayerImportJob(models.Model):
    """One uploaded layer file waiting for, or done with, its import by a worker.

    The import runs in a Celery task, not in the web process: parsing a
    hostile file is where a library crash would happen, and then it costs a
    task, not the site. `attempts` counts the workers that claimed the job, so
    a file that kills its worker is redelivered (acks_late) once more, then
    failed instead of looping.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("department"))  # fmt: skip
    upload = models.FileField(_("uploaded file"), upload_to="layer-imports/%Y/%m/", max_length=255)
    source_name = models.CharField(_("source file"), max_length=255)
    code_field = models.CharField(_("Code field"), max_length=64, default="code")
    name_field = models.CharField(_("Name field"), max_length=64, default="name")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    layer = models.ForeignKey(Layer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("layer"))  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("imported by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("layer import")
        verbose_name_plural = _("layer imports")
        ordering = ["-id"]
        indexes = [
            # The sweep reads only unfinished jobs.
            models.Index(fields=["created_at"], condition=Q(status__in=["queued", "running"]),
                         name="layer_import_job_unfinished"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.department.code} · {self.source_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
