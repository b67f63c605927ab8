from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("centers/", views.center_list, name="center_list"),
    path("centers/<str:code>/", views.center_detail, name="center_detail"),
]
