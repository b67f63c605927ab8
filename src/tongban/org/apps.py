from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "tongban.org"
    label = "org"
    verbose_name = _("组织机构")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_groups_after_last_app, dispatch_uid="tongban.org.groups")


def _ensure_groups_after_last_app(sender, **kwargs) -> None:
    """After the last app migrated (every permission exists by then), refresh the role groups."""
    from django.apps import apps

    if sender is list(apps.get_app_configs())[-1]:
        from .admin_groups import ensure_groups

        ensure_groups()
