from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/scope/", views.my_scope, name="my_scope"),
    path("elder-mode/", views.toggle_elder_mode, name="elder_toggle"),
    path("healthz", views.healthz, name="healthz"),
]
