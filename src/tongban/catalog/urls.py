"""Catalog pages, mounted at the site root: public guides under /items/, the catalog
administrator's workbench under /workbench/catalog/ (its import/export pages are a separate
URLconf mounted at /workbench/catalog/exchange/, so no pattern here starts with "exchange/")."""

from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("items/", views.browse, name="browse"),
    path("items/<str:code>/", views.guide, name="guide"),
    path("items/<str:code>/guide.pdf", views.guide_pdf, name="guide_pdf"),
    path(
        "items/<str:code>/materials/<int:pk>/<str:kind>/",
        views.material_file,
        name="material_file",
    ),
    path("workbench/catalog/", views.workbench, name="workbench"),
    path("workbench/catalog/review/", views.review_queue, name="review_queue"),
    path("workbench/catalog/items/<str:code>/", views.item_detail, name="wb_item"),
    path(
        "workbench/catalog/items/<str:code>/new-version/",
        views.new_version,
        name="wb_new_version",
    ),
    path(
        "workbench/catalog/items/<str:code>/versions/<int:number>/",
        views.version_detail,
        name="wb_version",
    ),
    path(
        "workbench/catalog/items/<str:code>/versions/<int:number>/edit/",
        views.edit_version,
        name="wb_edit",
    ),
    path(
        "workbench/catalog/items/<str:code>/versions/<int:number>/<str:action>/",
        views.version_action,
        name="wb_action",
    ),
]
