from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tongban.api.main import api

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = settings.ADMIN_SITE_HEADER

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("tongban.accounts.urls")),
    path("org/", include("tongban.org.urls")),
    path("", include("tongban.catalog.urls")),
    path("workbench/catalog/exchange/", include("tongban.catalog.urls_exchange")),
    path("workbench/cases/", include("tongban.cases.urls_staff")),
    path("workbench/systems/", include("tongban.notify.urls")),
    path("", include("tongban.cases.urls_applicant")),
    path("cases/", include("tongban.cases.urls_documents")),
    path("", include("tongban.web.urls")),
]

handler403 = "tongban.web.views.error_403"
handler404 = "tongban.web.views.error_404"
handler500 = "tongban.web.views.error_500"
