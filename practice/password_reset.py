"""Password reset by email, with the email sent by a worker.

Django's view sends the email inside the request, and only for an address it knows, so a
real address took longer to answer than an unknown one: the time alone told whether someone
has an account here. Here the request does the same for any address: it queues one task
(after the request's transaction commits, `QueuedPasswordResetForm`) and answers as Django
does; the worker looks the address up and, for an active account, sends Django's own email,
in the language the request was made in (`practice.services.password_reset_send`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.http import HttpRequest
from django.utils import translation

from practice.tasks import send_password_reset


class QueuedPasswordResetForm(PasswordResetForm):
    def save(  # type: ignore[override]
        self,
        *,
        domain_override: str | None = None,
        use_https: bool = False,
        request: HttpRequest | None = None,
        **_: Any,
    ) -> None:
        domain = domain_override or (request.get_host() if request is not None else "")
        transaction.on_commit(
            partial(
                send_password_reset.delay,
                self.cleaned_data["email"],
                domain,
                use_https,
                translation.get_language(),
            ),
            # A broker that does not answer is logged, not a 500: the page answers alike.
            robust=True,
        )
