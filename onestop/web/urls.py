from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("services/", views.services, name="services"),
    path("services/<slug:code>/", views.service, name="service"),
]
