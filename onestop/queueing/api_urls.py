from django.urls import path

from . import api

urlpatterns = [
    path("centres/", api.CentreList.as_view(), name="api-centres"),
    path("centres/<slug:centre>/services/", api.CentreServices.as_view(), name="api-centre-services"),
    path("centres/<slug:centre>/counters/", api.CentreCounters.as_view(), name="api-centre-counters"),
    path("centres/<slug:centre>/tickets/", api.TicketIssue.as_view(), name="api-ticket-issue"),
    path("centres/<slug:centre>/board/", api.Board.as_view(), name="api-board"),
    path("tickets/<int:pk>/", api.TicketDetail.as_view(), name="api-ticket"),
    path("tickets/<int:pk>/cancel/", api.TicketCancel.as_view(), name="api-ticket-cancel"),
    path("counters/<int:pk>/open/", api.CounterAction.as_view(action="open"), name="api-counter-open"),
    path("counters/<int:pk>/close/", api.CounterAction.as_view(action="close"), name="api-counter-close"),
    path("counters/<int:pk>/break/", api.CounterAction.as_view(action="break"), name="api-counter-break"),
    path("counters/<int:pk>/call-next/", api.CallNext.as_view(), name="api-call-next"),
]
for _action in ["recall", "no-show", "start", "finish", "transfer", "park", "return", "requeue"]:
    urlpatterns.append(path(f"tickets/<int:pk>/{_action}/", api.TicketAction.as_view(action=_action),
                            name=f"api-ticket-{_action}"))
