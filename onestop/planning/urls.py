"""Capacity planning pages under /planning/."""

from django.urls import path

from . import views

app_name = "planning"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:centre>/", views.centre_page, name="centre"),
]
