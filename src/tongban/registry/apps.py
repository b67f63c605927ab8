from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "tongban.registry"
    verbose_name = _("登记与证照")
