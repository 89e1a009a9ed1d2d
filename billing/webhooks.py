"""The payment provider's webhook endpoint: a signed POST, no session, no CSRF token (the
signature is the credential)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.online import webhook_receive
from billing.providers import PROVIDERS, SIGNATURE_HEADER, BadSignature


@csrf_exempt
@require_POST
def payment_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in PROVIDERS:
        return HttpResponse(status=404)
    try:
        outcome = webhook_receive(
            provider=provider,
            payload=request.body,
            signature=request.headers.get(SIGNATURE_HEADER, ""),
        )
    except BadSignature as exc:
        return HttpResponseBadRequest(str(exc))
    # 200 for a replay too: the provider stops resending.
    return HttpResponse(outcome)
