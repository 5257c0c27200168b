from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate, pre_save
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Organisation")

    def ready(self):
        from governance import (
            checks,  # noqa: F401  (registers the system checks)
            schema,  # noqa: F401  (registers the OpenAPI extensions)
        )
        from governance.roles import sync_roles_after_migrate
        from governance.sessions import mark_fresh
        from governance.text import strip_unsafe_before_save

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="governance.sync_roles")
        user_logged_in.connect(mark_fresh, dispatch_uid="governance.sessions.mark_fresh")
        pre_save.connect(strip_unsafe_before_save, dispatch_uid="governance.text.strip_unsafe")
