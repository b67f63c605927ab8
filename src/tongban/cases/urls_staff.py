"""URLs of the case pages (staff); see views_staff.py."""

from django.urls import path  # noqa: F401

app_name = "cases_staff"

urlpatterns: list = []
