"""The department systems page (部门系统对接); see views.py. Mounted at /workbench/systems/."""

from django.urls import path

from . import views

app_name = "notify"

urlpatterns = [
    path("", views.systems, name="systems"),
    path("deliveries/<str:uid>/resend/", views.resend, name="resend"),
]
