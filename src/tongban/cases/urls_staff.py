"""URLs of the case pages (staff); see views_staff.py. Mounted at /workbench/cases/."""

from django.urls import path

from . import views_staff as views

app_name = "cases_staff"

urlpatterns = [
    path("", views.worklist_view, name="index"),
    path("export.csv", views.export, name="export"),
    path("intake/", views.intake, name="intake"),
    path("intake/find/", views.intake_find, name="intake_find"),
    path("intake/register/", views.intake_register, name="intake_register"),
    path("intake/clear/", views.intake_clear, name="intake_clear"),
    path("intake/start/", views.intake_start, name="intake_start"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/reveal/", views.reveal, name="reveal"),
    path("<str:number>/act/<str:step>/", views.act, name="act"),
]
