from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tongban.core"
    label = "core"
    verbose_name = _("基础设施")

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers checks and receivers)
