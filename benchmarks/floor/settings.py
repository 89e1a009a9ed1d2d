"""The floor `make bench` measures the API against: the project's own settings (database,
middleware, JWT key, DEBUG off), with DRF left bare. Its one endpoint reads one patient with
stateless JWT authentication, no throttles and no tenancy: one query per request, the least any
authenticated read of that row can cost. Served by the same gunicorn command as the product."""

from practice.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.floor.urls"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
