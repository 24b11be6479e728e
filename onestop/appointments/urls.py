from django.urls import path

from . import views

app_name = "appointments"

urlpatterns = [
    path("", views.portal, name="portal"),
    path("my/", views.my_booking, name="my_booking"),
    path("s/<slug:service>/", views.centres, name="centres"),
    path("s/<slug:service>/<slug:centre>/", views.days, name="days"),
    path("s/<slug:service>/<slug:centre>/<str:day>/", views.slots, name="slots"),
    path("s/<slug:service>/<slug:centre>/<str:day>/<str:hhmm>/", views.identity, name="identity"),
    path("b/<str:token>/", views.manage, name="manage"),
    path("b/<str:token>/cancel/", views.cancel, name="cancel"),
    path("b/<str:token>/move/", views.move, name="move"),
    path("calendar/<str:token>.ics", views.calendar, name="calendar"),
    path("kiosk/<slug:centre>/", views.kiosk_checkin, name="kiosk_checkin"),
    path("reception/", views.reception_index, name="reception_index"),
    path("reception/<slug:centre>/", views.reception, name="reception"),
    path("reception/<slug:centre>/book/", views.reception_book, name="reception_book"),
]
