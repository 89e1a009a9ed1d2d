"""One error body for every API failure, so clients parse a single shape:

    {"status": 400, "code": "invalid", "detail": "Invalid input.", "errors": {"field": ["..."]}}

`errors` is present for validation failures only; it maps field names (or "non_field_errors")
to messages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from practice.errors import Conflict

# The schema's picture of what `exception_handler` writes: `practice.api_schema` documents it
# for every failure. Inline, as a field named `errors` declared on a Serializer subclass would
# shadow its `errors` property for the type checker.
ERROR_BODY = inline_serializer(
    name="Error",
    fields={
        "status": serializers.IntegerField(help_text="The HTTP status, repeated."),
        "code": serializers.CharField(help_text="What went wrong, for programs: `invalid`, ..."),
        "detail": serializers.CharField(help_text="What went wrong, for people."),
        "errors": serializers.DictField(
            required=False,
            help_text=(
                "Validation failures only: each field (or `non_field_errors`) with its "
                "messages; a nested field's messages are nested the same way."
            ),
        ),
    },
)


class ConflictResponse(exceptions.APIException):
    """A domain `Conflict` on its way to the client as a 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This conflicts with the current state.")
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    body: dict[str, Any] = {}
    if isinstance(exc, DjangoValidationError):
        # Services validate with full_clean(); their messages reach the client as a 400.
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Conflict):
        body = exc.body
        exc = ConflictResponse(exc.detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = {**_error_body(exc, response), **body}
    return response


def _error_body(exc: Exception, response: Response) -> dict[str, Any]:
    body: dict[str, Any] = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        body["detail"] = str(_("Invalid input."))
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        body["errors"] = errors
        return body
    detail: object
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        body["code"] = codes if isinstance(codes, str) else exc.default_code
        detail = exc.detail
    else:  # Http404 and PermissionDenied from Django, translated by DRF
        body["code"] = "not_found" if response.status_code == 404 else "permission_denied"
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    if isinstance(detail, dict):
        body["detail"] = str(detail.get("detail", exc))
        body.update({k: v for k, v in detail.items() if k != "detail"})
    else:
        body["detail"] = str(detail)
    return body
