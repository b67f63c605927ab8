"""Catalog import / export pages; mounted at /workbench/catalog/exchange/."""

from django.urls import path

from . import views_exchange as views

app_name = "catalog_exchange"

urlpatterns = [
    path("", views.exchange_home, name="index"),
    path("export/", views.export_download, name="export"),
    path("imports/", views.import_upload, name="upload"),
    path("imports/<int:job_id>/", views.job_detail, name="job"),
    path("imports/<int:job_id>/progress/", views.job_progress, name="job_progress"),
    path("imports/<int:job_id>/errors.csv", views.job_errors_csv, name="job_errors"),
]
