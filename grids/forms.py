"""Forms of the grids admin: the layer upload and the cell assignment."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _

from governance.models import Department, Role
from grids.models import CellAssignment, GridVersion
from grids.validation import MAX_FILE_BYTES

UPLOAD_EXTENSIONS = ["geojson", "json", "zip", "gpkg"]
MAX_UPLOAD_BYTES = MAX_FILE_BYTES  # refused here already, before the file is stored and queued


class LayerImportForm(forms.Form):
    department = forms.ModelChoiceField(Department.objects.none(), label=_("department"))
    file = forms.FileField(
        label=_("File"),
        validators=[FileExtensionValidator(UPLOAD_EXTENSIONS)],
        help_text=_(
            "GeoJSON (.geojson, .json), a zipped Shapefile (.zip) or a GeoPackage (.gpkg), in any coordinate system."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(f".{e}" for e in UPLOAD_EXTENSIONS)}),
    )
    code_field = forms.CharField(
        label=_("Code field"),
        initial="code",
        max_length=64,
        help_text=_("The attribute holding each polygon's code."),
    )
    name_field = forms.CharField(
        label=_("Name field"),
        initial="name",
        max_length=64,
        required=False,
        help_text=_("The attribute holding each polygon's name (optional)."),
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        if len(departments) == 1:
            # Department staff import for their own department only: nothing to choose.
            self.fields["department"].initial = departments[0]
            self.fields["department"].widget = forms.HiddenInput()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload

    def clean_name_field(self):
        return self.cleaned_data["name_field"] or "name"


class FieldStaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        label = f"{user.get_username()} · {name}" if name else user.get_username()
        return f"{label} ({user.profile.get_role_display()})"


class CellAssignmentForm(forms.ModelForm):
    """Leader duty needs a grid leader, worker duty a grid worker; one leader per cell; live cells only."""

    ASSIGNABLE = (GridVersion.Status.DRAFT, GridVersion.Status.ACTIVE)

    user = FieldStaffChoiceField(
        get_user_model()
        .objects.filter(profile__role__in=[Role.GRID_LEADER, Role.GRID_WORKER], is_active=True)
        .select_related("profile")
        .order_by("username"),
        label=_("user"),
    )

    class Meta:
        model = CellAssignment
        fields = ["cell", "user", "duty"]

    def clean_cell(self):
        cell = self.cleaned_data["cell"]
        if cell.version.status not in self.ASSIGNABLE:
            raise forms.ValidationError(
                _("Cell %(code)s belongs to a retired version; assign cells of the active version or of a draft.")
                % {"code": cell.code}
            )
        return cell

    def clean(self):
        cleaned = super().clean()
        cell, user, duty = cleaned.get("cell"), cleaned.get("user"), cleaned.get("duty")
        if user is not None and duty and user.profile.role != duty:
            self.add_error(
                "user",
                _("%(user)s is a %(role)s; a %(duty)s duty needs a %(duty)s.")
                % {
                    "user": user.get_username(),
                    "role": user.profile.get_role_display(),
                    "duty": CellAssignment.Duty(duty).label,
                },
            )
        if cell is not None and duty == CellAssignment.Duty.LEADER:
            leader = cell.assignments.filter(duty=CellAssignment.Duty.LEADER).exclude(pk=self.instance.pk).first()
            if leader is not None:
                # On the cell field, so the model's generic "constraint violated" message is skipped.
                self.add_error(
                    "cell",
                    _("Cell %(code)s already has a grid leader, %(user)s; a cell has one grid leader.")
                    % {"code": cell.code, "user": leader.user.get_username()},
                )
        return cleaned
