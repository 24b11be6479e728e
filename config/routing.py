from django.urls import path

from onestop.queueing.consumers import BoardConsumer, TicketConsumer

websocket_urlpatterns = [
    path("ws/board/<slug:centre>/", BoardConsumer.as_asgi()),
    path("ws/ticket/<str:token>/", TicketConsumer.as_asgi()),
]
