"""The API's OpenAPI schema, made to tell the truth about failures and local times.

drf-spectacular documents what a view declares: its success and, where a view says so, a 409.
Every operation can also fail in ways shared by all views (bad input, not signed in, not
allowed, not found, throttled), each answered with the one error body of
`practice.api_errors`. `PracticeAutoSchema` adds those to every operation that can answer
them, and gives every declared failure without a body that error body.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import (
    SimpleJWTScheme,
    TokenObtainPairSerializerExtension,
)
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import AllowAny

from practice.api_caching import NOT_MODIFIED, Cacheable
from practice.api_errors import ERROR_BODY
from practice.idempotency import IDEMPOTENCY_HEADER, KEY_PATTERN, REPLAYED_HEADER, Idempotent
from practice.tenancy import PRACTICE_HEADER, SLUG

FAILURES = {
    "400": (
        "Invalid input: `errors` names each field with its messages. Also a body that is not "
        "JSON, and a user of several practices who names none with X-Practice."
    ),
    "401": "Not signed in, or the credentials or token are wrong or expired.",
    "403": "Signed in, but not a member of the practice or not in a role that may do this.",
    "404": (
        "Nothing with this id among what the user may see, or no such page (or cursor) of a list."
    ),
    "415": "The body is not of a media type the operation reads.",
    "422": f"The {IDEMPOTENCY_HEADER} was already used for a different request.",
    "429": "Too many requests: retry after the seconds in the Retry-After header.",
}

IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=KEY_PATTERN,
    description=(
        "Makes a retry safe: a POST repeated with the same key and body (within 24 hours) "
        f"answers the first response again, with {REPLAYED_HEADER}: true, without acting "
        "twice. A new key for each new request."
    ),
)
PRACTICE = OpenApiParameter(
    PRACTICE_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=f"^{SLUG.pattern}$",
    description=(
        "The practice the request acts for, by its slug: needed only by a user of several "
        "practices (without it they get a 400); a practice the user is not a member of, or "
        "none has that slug, is a 403."
    ),
)
VALIDATORS = {
    "ETag": {"schema": {"type": "string"}, "description": "Send it back as If-None-Match."},
    "Last-Modified": {
        "schema": {"type": "string"},
        "description": "Send it back as If-Modified-Since.",
    },
}

# HH:MM, optionally with seconds and their fraction, as DRF's TimeField reads and writes them.
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


class PracticeAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses: dict[str, Any] = operation["responses"]
        if self._is_cacheable():
            responses["200"]["headers"] = VALIDATORS
            responses["304"] = {"description": NOT_MODIFIED}
        for code in self._failures(reads_body="requestBody" in operation):
            responses.setdefault(code, {"description": FAILURES[code]})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                error = OpenApiResponse(ERROR_BODY, description=response["description"])
                responses[code] = self._get_response_for_code(error, code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def get_override_parameters(self) -> list[Any]:
        parameters = super().get_override_parameters()
        if not self._is_open():
            parameters = [*parameters, PRACTICE]
        if self._is_idempotent():
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _is_open(self) -> bool:
        return all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _is_idempotent(self) -> bool:
        return self.method == "POST" and isinstance(self.view, Idempotent)

    def _is_cacheable(self) -> bool:
        return self.method == "GET" and isinstance(self.view, Cacheable)

    def _failures(self, *, reads_body: bool) -> list[str]:
        # Every operation reads input or the practice a request acts for (400); the token
        # endpoints answer wrong credentials with a 401 as the others answer no credentials.
        codes = ["400", "401"]
        if not self._is_open():
            codes.append("403")
        paginated_list = self._is_list_view() and self._get_paginator() is not None
        if "{" in self.path or paginated_list:
            codes.append("404")
        if reads_body:
            codes.append("415")
        if self._is_idempotent():
            codes.append("422")
        if self.view.get_throttles():
            codes.append("429")
        return codes


class LocalTimeFieldExtension(OpenApiSerializerFieldExtension):
    """A time of day in this API is a local wall-clock time of the practice (R24), served as
    "13:00:00": OpenAPI's `format: time` (RFC 3339) would require an offset it has not."""

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return {"type": "string", "pattern": LOCAL_TIME_PATTERN, "example": "13:00:00"}


class TokenObtainPairExtension(TokenObtainPairSerializerExtension):
    """The sign-in's body and tokens, as drf-spectacular describes simplejwt's own serializer
    (ours only words a 400 differently)."""

    target_class = "practice.tokens.TokenObtainPairSerializer"


class PracticeJWTScheme(SimpleJWTScheme):
    """Our JWT authentication (`practice.authentication`) is simplejwt's bearer token."""

    target_class = "practice.authentication.PracticeJWTAuthentication"
