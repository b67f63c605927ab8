"""URLs of the case pages (applicant), mounted at the site root; see views_applicant.py."""

from django.urls import path

from . import views_applicant as views

app_name = "cases_applicant"

urlpatterns = [
    path("apply/<str:code>/", views.apply, name="apply"),
    path("my/cases/", views.my_cases, name="my_cases"),
    path("my/cases/<str:number>/", views.case_detail, name="case"),
    path("my/cases/<str:number>/steps/<str:name>/", views.step, name="step"),
    path("my/cases/<str:number>/materials/", views.materials, name="materials"),
    path("my/cases/<str:number>/receipt/", views.receipt, name="receipt"),
    path("my/cases/<str:number>/supplement/", views.supplement, name="supplement"),
    path("my/cases/<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("my/licences/", views.licences, name="licences"),
    path("my/messages/", views.inbox, name="messages"),
    path("my/messages/read/", views.mark_read, name="messages_read"),
    path("progress/", views.progress, name="progress"),
]
