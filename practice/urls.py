from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth.views import PasswordResetView
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter
from rest_framework_simplejwt.views import TokenRefreshView

from billing.webhooks import payment_webhook
from patients.api import MeView
from practice.audit.api import AuditEntryList
from practice.catalogue_api import MassageTypeViewSet, PracticeView, RoomViewSet, TherapistViewSet
from practice.health import healthz
from practice.password_reset import QueuedPasswordResetForm
from practice.second_factor_views import second_factor_enrol, second_factor_verify
from practice.tokens import TokenObtainView
from practice.views import home, staff_join

catalogue = SimpleRouter()
catalogue.register("massage-types", MassageTypeViewSet, basename="massage-type")
catalogue.register("therapists", TherapistViewSet, basename="therapist")
catalogue.register("rooms", RoomViewSet, basename="room")

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("me/", MeView.as_view(), name="me"),
    path("practice/", PracticeView.as_view(), name="practice"),
    path("audit-entries/", AuditEntryList.as_view(), name="audit-entry-list"),
    *catalogue.urls,
    path("", include("patients.urls")),
    path("", include("sessions.api.urls")),
    path("", include("reports.api_urls")),
    path("", include("billing.api_urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("p/<slug:practice_slug>/", include("practice.audit.urls")),
    path("p/<slug:practice_slug>/", include("patients.web_urls")),
    path("p/<slug:practice_slug>/", include("sessions.pages.urls")),
    path("p/<slug:practice_slug>/", include("sessions.pages.course_urls")),
    path("p/<slug:practice_slug>/", include("sessions.portal.urls")),
    path("p/<slug:practice_slug>/", include("reports.urls")),
    path("p/<slug:practice_slug>/", include("billing.web_urls")),
    path("p/<slug:practice_slug>/", include("billing.portal_urls")),
    path("webhooks/payments/<str:provider>/", payment_webhook, name="payment-webhook"),
    path("join/staff/<str:token>/", staff_join, name="staff-join"),
    path("accounts/second-factor/", second_factor_verify, name="second-factor-verify"),
    path("accounts/second-factor/enrol/", second_factor_enrol, name="second-factor-enrol"),
    path(
        "accounts/password_reset/",
        PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, so scripts stay
    # 'self' only; the page's own <style> block and the styles Swagger UI sets while it runs
    # need inline styles, allowed on this page alone.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="swagger-ui",
    ),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page links; the file is a static one. Lazy:
    # the hashed name comes from collectstatic's manifest, read at the first request.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"), permanent=True)),
]
