"""URLs of the case pages (documents); see views_documents.py."""

from django.urls import path  # noqa: F401

app_name = "cases_documents"

urlpatterns: list = []
