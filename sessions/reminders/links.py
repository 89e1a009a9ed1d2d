"""The links in a session's reminders (R21): the patient confirms or cancels the session
without signing in.

A link carries the session's id and its schedule version, signed with the SECRET_KEY
(`django.core.signing`, with a salt of its own, so no other signed value of the site passes for
one). Nothing else is needed to trust it, and nothing is stored: a move bumps the version, so
the old time's links stop working, and a link ends when its session starts (checked against the
session, `sessions.booking.replies`). The links are absolute, on SITE_URL: a reminder is sent
by a worker, with no request to take a host from.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sessions.models import Session

SALT = "sessions.reminders.session-link"
OFFER_SALT = "sessions.reminders.waitlist-offer-link"


@dataclass(frozen=True)
class SessionLink:
    """What a link's token says: which session, at which schedule version."""

    session_id: int
    schedule_version: int


def session_link_token(session: Session) -> str:
    return signing.Signer(salt=SALT).sign(f"{session.pk}.{session.schedule_version}")


def invalid_link() -> ValidationError:
    return ValidationError(
        _("This link is not valid. Please use the link in your latest reminder."),
        code="invalid_link",
    )


def session_link_read(token: str) -> SessionLink:
    """The session and version a token names; `invalid_link()` for one we did not sign, e.g.
    a token cut short when a mail client wrapped the line."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        session_id, version = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError) as exc:
        raise invalid_link() from exc
    return SessionLink(session_id=session_id, schedule_version=version)


def waitlist_offer_token(offer_id: int) -> str:
    """A waitlist offer's claim link: its id, signed with a salt of its own. Whether the offer
    still holds (open, not expired) is read from its row when the link is used."""
    return signing.Signer(salt=OFFER_SALT).sign(str(offer_id))


def waitlist_offer_read(token: str) -> int:
    """The offer id a claim link names; `invalid_link()` for one we did not sign."""
    try:
        return int(signing.Signer(salt=OFFER_SALT).unsign(token))
    except (signing.BadSignature, ValueError) as exc:
        raise invalid_link() from exc


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def session_link_urls(session: Session) -> dict[str, str]:
    """The reminder's links: `reply_url` (a page offering both, short enough for an SMS),
    `confirm_url` and `cancel_url`."""
    kwargs = {"practice_slug": session.practice.slug, "token": session_link_token(session)}
    return {
        "reply_url": _absolute(reverse("portal:reply", kwargs=kwargs)),
        "confirm_url": _absolute(reverse("portal:reply-confirm", kwargs=kwargs)),
        "cancel_url": _absolute(reverse("portal:reply-cancel", kwargs=kwargs)),
    }


def waitlist_offer_url(practice_slug: str, offer_id: int) -> str:
    """The absolute claim link of a waitlist offer, for its message."""
    kwargs = {"practice_slug": practice_slug, "token": waitlist_offer_token(offer_id)}
    return _absolute(reverse("portal:waitlist-offer", kwargs=kwargs))
