"""URLs of the case pages (applicant); see views_applicant.py."""

from django.urls import path  # noqa: F401

app_name = "cases_applicant"

urlpatterns: list = []
