"""Every /api/v1/ route, gathered from the apps."""

from django.urls import include, path

urlpatterns = [
    path("", include("onestop.accounts.api_urls")),
    path("", include("onestop.catalogue.api_urls")),
    path("", include("onestop.queueing.api_urls")),
    path("", include("onestop.appointments.api_urls")),
]
