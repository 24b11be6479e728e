"""Hall screens under /hall/: kiosk, display board, counter console, reception, phone pages."""

from django.urls import path

from . import views

app_name = "queueing"

urlpatterns = [
    path("kiosk/", views.kiosk_index, name="kiosk_index"),
    path("kiosk/<slug:centre>/", views.kiosk, name="kiosk"),
    path("kiosk/<slug:centre>/ticket/<str:token>/", views.kiosk_ticket, name="kiosk_ticket"),
    path("board/", views.board_index, name="board_index"),
    path("board/<slug:centre>/", views.board, name="board"),
    path("counter/", views.counter_index, name="counter_index"),
    path("counter/<int:pk>/", views.counter, name="counter"),
    path("counter/<int:pk>/queue/", views.counter_queue, name="counter_queue"),
    path("reception/", views.reception_index, name="reception_index"),
    path("reception/<slug:centre>/", views.reception, name="reception"),
    path("reception/<slug:centre>/overview/", views.reception_overview, name="reception_overview"),
    path("t/<str:token>/", views.ticket_page, name="ticket_page"),
    path("join/", views.remote_join, name="remote_join"),
]
