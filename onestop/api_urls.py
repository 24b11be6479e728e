"""Every /api/v1/ route, gathered from the apps."""

from django.urls import include, path

# The busiest routes first (kiosk tickets, bookings): Django tries the patterns in order and
# records every one it passes.
urlpatterns = [
    path("", include("onestop.queueing.api_urls")),
    path("", include("onestop.appointments.api_urls")),
    path("", include("onestop.catalogue.api_urls")),
    path("", include("onestop.accounts.api_urls")),
]
