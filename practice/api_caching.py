"""Conditional GETs for the API's read-mostly resources (the practice and its catalogue).

A mobile app asks for the catalogue on every start; it changes a few times a year. Each answer
carries an ETag (a hash of the body as served, so it changes with the language and with any
row that is added, changed or removed) and a Last-Modified (the newest `updated_at` among the
rows served), and a request repeating either validator gets a bodiless 304.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.db.models import Max
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, quote_etag
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from practice.tenancy import PRACTICE_HEADER

NOT_MODIFIED = (
    "Not modified: the If-None-Match (ETag) or If-Modified-Since (Last-Modified) sent still "
    "describes the resource."
)


class Cacheable:
    """For an API view answering GETs: ETag, Last-Modified and 304 (see the module)."""

    def last_modified(self) -> datetime | None:
        """The newest change among the rows a GET serves: the list's, or the one's."""
        rows = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)  # type: ignore[attr-defined]
        if lookup is not None:
            rows = rows.filter(pk=lookup)
        return rows.aggregate(newest=Max("updated_at"))["newest"]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        body = JSONRenderer().render(response.data)
        representation = f"{response.accepted_media_type}\n".encode() + body
        etag = quote_etag(hashlib.sha256(representation).hexdigest())
        response["ETag"] = etag
        newest = self.last_modified()
        timestamp = int(newest.timestamp()) if newest is not None else None
        if timestamp is not None:
            response["Last-Modified"] = http_date(timestamp)
        # Private: the body depends on who asks; revalidated on every use, which the 304
        # makes cheap.
        patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ["Accept-Language", "Authorization", PRACTICE_HEADER])
        return get_conditional_response(
            request._request, etag=etag, last_modified=timestamp, response=response
        )
