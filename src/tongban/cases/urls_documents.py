"""URLs of a case's documents (notices and result PDFs, materials); see views_documents.py.
Mounted at ``/cases/``."""

from django.urls import path

from . import views_documents as views

app_name = "cases_documents"

urlpatterns = [
    path(
        "<str:number>/notices/<str:notice_number>.pdf",
        views.notice_pdf,
        name="notice_pdf",
    ),
    path("<str:number>/result.pdf", views.result_pdf, name="result_pdf"),
    path("<str:number>/materials/<int:pk>/file", views.material_file, name="material_file"),
    path(
        "<str:number>/materials/<int:pk>/preview.png",
        views.material_preview,
        name="material_preview",
    ),
]
