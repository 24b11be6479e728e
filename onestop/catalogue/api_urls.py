from django.urls import path

from .api import ServiceDetail, ServiceList

urlpatterns = [
    path("services/", ServiceList.as_view(), name="api-services"),
    path("services/<slug:code>/", ServiceDetail.as_view(), name="api-service"),
]
