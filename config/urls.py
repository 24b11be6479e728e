from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from onestop.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    # the API first: kiosks, boards and bookings call it far more often than pages are opened
    path("api/v1/", include("onestop.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("accounts/", include("onestop.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("book/", include("onestop.appointments.urls")),
    path("hall/", include("onestop.queueing.urls")),
    path("planning/", include("onestop.planning.urls")),
    path("", include("onestop.web.urls")),
]
