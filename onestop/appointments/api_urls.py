from django.urls import path

from . import api

urlpatterns = [
    path("centres/<slug:centre>/slots/", api.SlotList.as_view(), name="api-slots"),
    path("centres/<slug:centre>/check-in/", api.CheckInView.as_view(), name="api-check-in"),
    path("otp/", api.OtpRequest.as_view(), name="api-otp"),
    path("otp/verify/", api.OtpVerify.as_view(), name="api-otp-verify"),
    path("bookings/", api.BookingCreate.as_view(), name="api-bookings"),
    path("bookings/<str:code>/", api.BookingDetail.as_view(), name="api-booking"),
    path("bookings/<str:code>/cancel/", api.BookingCancel.as_view(), name="api-booking-cancel"),
    path("bookings/<str:code>/move/", api.BookingMove.as_view(), name="api-booking-move"),
]
