from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Cases, photos, triage, stage deadlines, intake channels and Open311."""

    name = "cases"
    verbose_name = _("Cases")
