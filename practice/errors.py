"""The domain's own exceptions: services raise these, and know nothing of HTTP.

The API's exception handler (`practice.api_errors`) turns a `Conflict` into a 409 with its
body; the pages show its `detail` as a message. A broken rule on the input itself is Django's
`ValidationError` (a 400 in the API, a form error on a page).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Something the request asked for cannot be done in the current state."""


class Conflict(DomainError):
    """The request is valid but collides with the current state (a taken slot, a stale plan,
    a session in the wrong status).

    Raised with a dict, its "detail" is the message and the other keys are kept in `body`,
    as they are (numbers stay numbers), for the client: e.g. the time it collides with."""

    default_detail = _("This conflicts with the current state.")

    def __init__(self, body: dict[str, Any] | str | None = None) -> None:
        self.body: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
        message = self.body.pop("detail", None) if isinstance(body, dict) else body
        self.detail: str = str(message or self.default_detail)
        super().__init__(self.detail)
