"""Safe retries of the API's POSTs: the `Idempotency-Key` header.

A mobile client whose connection drops after sending a POST cannot know whether it took
effect. Sent with an `Idempotency-Key` (any string of the client's choosing, one per intended
action), a POST is carried out once: a retry with the same key and body gets the first
response, status and body, without repeating the effect; the same key with another request is
refused (422). Keys belong to one user in one practice and are kept 24 hours.

Only a success is kept: a request that failed changed nothing (its transaction is rolled back),
so its retry is simply carried out again.

Two retries racing each other are kept apart by the database, not by a check: the first
inserts the key's row in the request's transaction, and the second's insert waits on that
uncommitted row until the first commits (then finds its response) or rolls back (then goes
ahead itself).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from practice.models import IdempotencyKey
from practice.permissions import practice_request
from practice.tenancy import PracticeAPIRequest

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = IdempotencyKey._meta.get_field("key").max_length or 255
# Printable ASCII without spaces, as a UUID or any token a client makes up is written.
KEY_PATTERN = rf"^[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}$"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was already used for a different request: use a new key for a "
        "new request."
    )
    default_code = "idempotency_key_reused"


class Idempotent:
    """For an API view: its POSTs honour the `Idempotency-Key` header (see the module)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or key is None:
            return
        if not re.match(KEY_PATTERN, key):
            message = _(
                "Send 1 to %(max)d printable characters without spaces, such as a UUID."
            ) % {"max": MAX_KEY_LENGTH}
            raise exceptions.ValidationError({IDEMPOTENCY_HEADER: [message]})
        # DRF looks the handler up after initial(): the POST it finds is this one, run once per
        # key. (A viewset's actions are attributes of the instance already, set by as_view.)
        handler = getattr(self, "post")  # noqa: B009 (views declare it, not this mixin)
        setattr(self, "post", partial(_once, handler=handler, key=key))  # noqa: B010


def _once(request: Request, *args: Any, handler: Any, key: str, **kwargs: Any) -> Response:
    resolved = practice_request(request)  # the view's permissions have resolved it
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        claim, first = _claim(request=resolved, key=key, fingerprint=fingerprint)
        if claim.fingerprint != fingerprint:
            raise KeyReused
        if not first:
            return Response(
                claim.response_body,
                status=claim.response_status,
                headers={REPLAYED_HEADER: "true"},
            )
        response = handler(request, *args, **kwargs)
        if status.is_success(response.status_code):
            claim.response_status = response.status_code
            # As the client reads it: dates, decimals and lazy texts rendered once, now.
            claim.response_body = json.loads(JSONRenderer().render(response.data))
            claim.save(update_fields=["response_status", "response_body"])
        else:
            # A refusal answered without an exception (a duplicate patient's 409) changed
            # nothing: its retry is carried out again, like any failed request's.
            claim.delete()
    return response


def _claim(
    *, request: PracticeAPIRequest, key: str, fingerprint: str
) -> tuple[IdempotencyKey, bool]:
    """The key's row, locked, and whether this request is the one to carry it out."""
    try:
        # A savepoint: losing the race leaves the request's transaction usable.
        with transaction.atomic():
            created = IdempotencyKey.objects.create(
                practice=request.practice, user=request.user, key=key, fingerprint=fingerprint
            )
        return created, True
    except IntegrityError:
        pass
    existing = IdempotencyKey.objects.select_for_update().get(
        practice=request.practice, user=request.user, key=key
    )
    if existing.created_at > timezone.now() - KEPT_FOR:
        return existing, False
    # Expired but not yet swept (`idempotency_keys_sweep`): the key is free again.
    existing.fingerprint = fingerprint
    existing.created_at = timezone.now()
    existing.response_status = None
    existing.response_body = None
    existing.save()
    return existing, True


def _fingerprint(request: Request) -> str:
    """What makes two requests the same one: method, path and body (parsed, so a retry's
    key order or spacing does not matter)."""
    body = json.dumps(request.data, cls=JSONEncoder, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotency_keys_sweep() -> int:
    """Deletes the keys older than their 24 hours; returns how many."""
    deleted, _by_model = IdempotencyKey.objects.filter(
        created_at__lte=timezone.now() - KEPT_FOR
    ).delete()
    return deleted
