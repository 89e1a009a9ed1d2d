"""Reminder delivery channels (R21): email through Django's email backend, SMS through a small
backend interface. The dispatcher calls `channel_for(name).send(to=..., message=...)` and
sorts failures by exception class: `PermanentDeliveryError` (an invalid number or address;
retrying cannot help, the reminder is marked failed and shown in admin) or
`TransientDeliveryError` (5xx, a refused connection; retry with backoff), of which
`UnknownDeliveryOutcome` (handed over, then no answer: a timeout, a dropped connection) is
retried with the same idempotency key and never fails the reminder.

Settings read here (all optional; the defaults suit local development and tests):

- `REMINDER_SMS_BACKEND` (str, default "sessions.reminders.channels.ConsoleSmsBackend"):
  dotted path of the `SmsBackend` class.
- `REMINDER_SMS_HTTP_URL` (str, default ""): the provider's endpoint for `HttpSmsBackend`;
  http or https only. Required by that backend.
- `REMINDER_SMS_HTTP_TOKEN` (str, default ""): sent as "Authorization: Bearer <token>".
- `REMINDER_SMS_HTTP_TIMEOUT` (float seconds, default 10.0).
- `REMINDER_SMS_SENDER` (str, default ""): the sender id passed to the backend when the message
  names none.
- `REMINDER_SMS_LOG_FILE` (str path, default ""): when set, `ConsoleSmsBackend` also appends
  one JSON line per message there, so a test can count sends across worker processes.
- `REMINDER_SMS_CONSOLE_DELAY` (float seconds, default 0): test-only; `ConsoleSmsBackend`
  sleeps this long before each send, so a test can kill a worker in the middle of a batch.
- `ICS_UID_DOMAIN` (str, default "massage-practice.invalid"): the right-hand side of the
  deterministic Message-ID of an email that carries an idempotency key.
- Django's own email settings, from `EMAIL_URL` (practice/settings.py): the backend, the SMTP
  server and `EMAIL_TIMEOUT`, and `DEFAULT_FROM_EMAIL`.

Idempotency (R22): a message may carry `idempotency_key` (the dispatcher builds it from the
reminder's dedupe key). A worker killed after sending but before recording the send makes the
dispatcher send again with the same key: the HTTP backend passes it as an `Idempotency-Key`
header for providers that deduplicate by it, the console backend delivers (and logs) a key only
once, and an email gets the same `Message-ID` each time. SMTP has no such thing: a resent email
can reach the mailbox twice, recognisably the same message (many clients collapse it).
"""

from __future__ import annotations

import fcntl
import hashlib
import http.client
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from email.utils import formataddr, make_msgid
from smtplib import SMTPException, SMTPRecipientsRefused, SMTPServerDisconnected
from typing import Any, ClassVar, Protocol
from urllib.parse import urlparse

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import DNS_NAME, BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_SMS_BACKEND = "sessions.reminders.channels.ConsoleSmsBackend"
DEFAULT_HTTP_TIMEOUT = 10.0
EMAIL = "email"
SMS = "sms"
# HTTP statuses that say "not now" rather than "never": retried with backoff. A refused token
# (401/403) is a configuration fault of ours, not of the reminder; failing every queued
# reminder permanently because of it would lose them all (R22), so they wait for the fix.
TRANSIENT_HTTP_STATUSES = frozenset({401, 403, 408, 425, 429})


class DeliveryError(Exception):
    """A reminder could not be delivered; see the subclass for whether to retry."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: an empty or invalid address or number, or a provider refusing it."""


class TransientDeliveryError(DeliveryError):
    """Retry later: a refused connection, a 5xx, or the provider asking to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        # Seconds the provider asked us to wait (Retry-After), when it said.
        self.retry_after = retry_after


class UnknownDeliveryOutcome(TransientDeliveryError):
    """The message was handed over but no answer came (a timeout, a connection dropped while
    waiting): it may well have been delivered. Retried with the same idempotency key, and
    never counted towards failing the reminder, which could be marked failed although the
    patient has it (R22)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str | bytes
    mimetype: str


@dataclass(frozen=True)
class OutgoingMessage:
    """One reminder, ready to send: the texts come from `sessions.messages.render_reminder`,
    the sender from the practice's settings (blank: the site's defaults)."""

    subject: str
    text: str
    html: str = ""
    sms_text: str = ""
    attachments: tuple[Attachment, ...] = ()
    sender_name: str = ""
    sender_email: str = ""
    reply_to: str = ""
    sms_sender: str = ""
    # What makes a resend of this message recognisable as the same message (see above).
    idempotency_key: str = ""


class Channel(Protocol):
    name: str

    def send(self, *, to: str, message: OutgoingMessage) -> str:
        """Deliver `message` to `to`; return the provider's message id ("" when none).

        Raises PermanentDeliveryError or TransientDeliveryError.
        """
        ...


def e164_or_error(number: str) -> str:
    """The number in E.164, or PermanentDeliveryError: retrying an invalid number cannot help."""
    if not number or not number.strip():
        raise PermanentDeliveryError("No phone number.")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise PermanentDeliveryError(f"Invalid phone number {number!r}: {exc}.") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise PermanentDeliveryError(f"Invalid phone number {number!r}.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_or_error(address: str) -> str:
    address = (address or "").strip()
    if not address:
        raise PermanentDeliveryError("No email address.")
    try:
        validate_email(address)
    except ValidationError as exc:
        raise PermanentDeliveryError(f"Invalid email address {address!r}.") from exc
    return address


class EmailChannel:
    """Email through Django's configured backend: text body, HTML alternative, attachments."""

    name = EMAIL

    def __init__(self, connection: Any | None = None) -> None:
        # A shared connection lets a dispatcher batch many messages over one SMTP session.
        self.connection = connection

    def build(self, *, to: str, message: OutgoingMessage) -> EmailMultiAlternatives:
        address = email_or_error(to)
        sender = message.sender_email or settings.DEFAULT_FROM_EMAIL
        from_email = formataddr((message.sender_name, sender)) if message.sender_name else sender
        # Our own Message-ID, so the id we return is the one the recipient's server sees; with
        # an idempotency key it is the same on every resend (R22).
        message_id = (
            deterministic_message_id(message.idempotency_key)
            if message.idempotency_key
            else make_msgid(domain=str(DNS_NAME))
        )
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=from_email,
            to=[address],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers={"Message-ID": message_id},
            connection=self.connection or get_connection(fail_silently=False),
        )
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        for attachment in message.attachments:
            mail.attach(attachment.filename, attachment.content, attachment.mimetype)
        return mail

    def send(self, *, to: str, message: OutgoingMessage) -> str:
        mail = self.build(to=to, message=message)
        try:
            mail.send(fail_silently=False)
        except SMTPRecipientsRefused as exc:
            # 5xx: the server will never take this address; 4xx: it asks us to try later.
            codes = [code for code, _reply in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"Email address refused: {exc}.") from exc
            raise TransientDeliveryError(f"Email address deferred: {exc}.") from exc
        except BadHeaderError as exc:
            # A newline in a header: the same message fails the same way every time.
            raise PermanentDeliveryError(f"Email not sendable: {exc}.") from exc
        except (SMTPServerDisconnected, TimeoutError) as exc:
            # The connection dropped or EMAIL_TIMEOUT ran out (smtplib reports a timeout
            # waiting for a reply as a disconnect), perhaps after the server took the message.
            raise UnknownDeliveryOutcome(f"Email server did not answer: {exc}.") from exc
        except (SMTPException, OSError) as exc:
            # SMTPSenderRefused lands here on purpose: our sender address is a configuration
            # fault to fix, not a reason to fail the patient's reminder for good (R22).
            raise TransientDeliveryError(f"Email not sent: {exc}.") from exc
        return str(mail.extra_headers["Message-ID"])


def deterministic_message_id(key: str) -> str:
    """A Message-ID that depends only on `key`: readable, and a hash so that it is unique and
    valid whatever characters the key holds. The domain is a setting, not this host's name,
    because a resend may come from another worker."""
    domain = getattr(settings, "ICS_UID_DOMAIN", "") or "massage-practice.invalid"
    readable = re.sub(r"[^A-Za-z0-9-]+", ".", key).strip(".")[:60].rstrip(".")
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"<{readable}.{digest}@{domain}>"


class SmsBackend(ABC):
    """Sends one text message; `to` is already E.164. Returns the provider's id ("" if none).

    `idempotency_key`, when given, names the message: a second send with the same key is a
    resend after a crash, and a backend that can should deliver it only once (R22)."""

    @abstractmethod
    def send(self, *, to: str, text: str, sender: str = "", idempotency_key: str = "") -> str: ...


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str
    sender: str
    message_id: str
    idempotency_key: str = ""


# The in-memory log serves tests; a worker left on the console backend for months must not
# grow without bound, so it keeps the most recent this many (tests send far fewer).
SENT_LOG_LIMIT = 100_000


@dataclass
class _SentLog:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: deque[SentSms] = field(default_factory=lambda: deque(maxlen=SENT_LOG_LIMIT))
    counter: int = 0
    # Idempotency key -> message id of what was delivered, in this process and, read from the
    # log file, in every other; `file_offset` is how far the file has been read.
    delivered: dict[str, str] = field(default_factory=dict)
    file_offset: int = 0
    file_path: str = ""


class ConsoleSmsBackend(SmsBackend):
    """The default: logs each message and keeps it in `ConsoleSmsBackend.sent` for tests.

    The log is per process; with `REMINDER_SMS_LOG_FILE` set, every send is also appended as
    one JSON line to that file, which survives a killed worker.

    Like a provider that honours idempotency keys, it delivers a key once: a resend with a key
    already delivered (by this process or, through the log file, any other) returns the first
    message id and is not delivered again. The log file still gets a line for the attempt,
    marked `"duplicate": true`, so a test sees both what reached the patient and how often the
    dispatcher tried.
    """

    _log: ClassVar[_SentLog] = _SentLog()

    @classmethod
    def sent(cls) -> list[SentSms]:
        with cls._log.lock:
            return list(cls._log.messages)

    @classmethod
    def clear(cls) -> None:
        with cls._log.lock:
            cls._log.messages.clear()
            cls._log.delivered.clear()
            cls._log.file_offset = 0
            cls._log.file_path = ""

    def send(self, *, to: str, text: str, sender: str = "", idempotency_key: str = "") -> str:
        delay = float(getattr(settings, "REMINDER_SMS_CONSOLE_DELAY", 0) or 0)
        if delay > 0:
            time.sleep(delay)
        log_file = getattr(settings, "REMINDER_SMS_LOG_FILE", "")
        with self._log.lock:
            if log_file:
                return self._send_logged(log_file, to, text, sender, idempotency_key)
            earlier = self._log.delivered.get(idempotency_key) if idempotency_key else None
            if earlier is not None:
                logger.info("SMS %s already delivered as %s; not again", idempotency_key, earlier)
                return earlier
            return self._deliver(to, text, sender, idempotency_key)

    def _deliver(self, to: str, text: str, sender: str, idempotency_key: str) -> str:
        # The caller holds the lock.
        self._log.counter += 1
        message_id = f"console-{os.getpid()}-{self._log.counter}"
        self._log.messages.append(
            SentSms(
                to=to,
                text=text,
                sender=sender,
                message_id=message_id,
                idempotency_key=idempotency_key,
            )
        )
        if idempotency_key:
            self._log.delivered[idempotency_key] = message_id
        logger.info("SMS to %s from %r: %s", to, sender, text)
        return message_id

    def _send_logged(
        self, log_file: str, to: str, text: str, sender: str, idempotency_key: str
    ) -> str:
        """Deliver and append one line, under an exclusive lock on the file: the check for an
        earlier delivery of the key and the append must not interleave with another worker's."""
        with open(log_file, "a+", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            try:
                if self._log.file_path != log_file:
                    self._log.delivered.clear()
                    self._log.file_offset = 0
                    self._log.file_path = log_file
                # Read only what other processes appended since this one last looked.
                out.seek(self._log.file_offset)
                for raw in out.read().splitlines():
                    entry = json.loads(raw)
                    if entry.get("key") and not entry.get("duplicate"):
                        self._log.delivered.setdefault(entry["key"], entry["id"])
                earlier = self._log.delivered.get(idempotency_key) if idempotency_key else None
                message_id = earlier or self._deliver(to, text, sender, idempotency_key)
                entry = {"to": to, "text": text, "sender": sender, "id": message_id}
                entry["key"] = idempotency_key
                if earlier is not None:
                    entry["duplicate"] = True
                # Opened for append, every write lands at the end whatever the read position.
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
                out.flush()
                self._log.file_offset = out.tell()
            finally:
                fcntl.flock(out, fcntl.LOCK_UN)
        return message_id


class HttpSmsBackend(SmsBackend):
    """POSTs {"to", "text", "sender"} as JSON to `REMINDER_SMS_HTTP_URL` with a bearer token.

    2xx is sent (the JSON body's "id", if any, is returned); 401, 403, 408, 425, 429, 5xx and
    connection errors are transient, no answer in time an unknown outcome; any other 4xx (the
    provider's answer to an invalid number) is permanent.
    """

    def __init__(
        self, *, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> None:
        self.url = url if url is not None else getattr(settings, "REMINDER_SMS_HTTP_URL", "")
        self.token = (
            token if token is not None else getattr(settings, "REMINDER_SMS_HTTP_TOKEN", "")
        )
        self.timeout = float(
            timeout
            if timeout is not None
            else getattr(settings, "REMINDER_SMS_HTTP_TIMEOUT", DEFAULT_HTTP_TIMEOUT)
        )
        # urlopen would also open file:// and ftp:// URLs; a provider is only ever HTTP(S).
        if urlparse(self.url).scheme not in ("http", "https"):
            raise ImproperlyConfigured("REMINDER_SMS_HTTP_URL must be an http(s) URL.")

    def send(self, *, to: str, text: str, sender: str = "", idempotency_key: str = "") -> str:
        body = json.dumps({"to": to, "text": text, "sender": sender}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            # R22: a provider that honours it delivers a resend after our crash only once.
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise self._classify(exc) from exc
        except (TimeoutError, http.client.RemoteDisconnected) as exc:
            # The request went out (a connect timeout is a URLError, below) and no answer came:
            # the provider may have delivered it.
            raise UnknownDeliveryOutcome(f"SMS provider did not answer: {exc}.") from exc
        except urllib.error.URLError as exc:
            raise TransientDeliveryError(f"SMS provider unreachable: {exc.reason}.") from exc
        except OSError as exc:
            raise TransientDeliveryError(f"SMS provider connection failed: {exc}.") from exc
        return self._message_id(payload)

    @staticmethod
    def _classify(exc: urllib.error.HTTPError) -> DeliveryError:
        detail = exc.read(500).decode("utf-8", "replace").strip()
        message = f"SMS provider answered {exc.code}: {detail or exc.reason}"
        if exc.code >= 500 or exc.code in TRANSIENT_HTTP_STATUSES:
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            try:
                seconds = float(retry_after) if retry_after else None
            except ValueError:
                # An HTTP-date Retry-After: the dispatcher's own backoff is good enough.
                seconds = None
            return TransientDeliveryError(message, retry_after=seconds)
        return PermanentDeliveryError(message)

    @staticmethod
    def _message_id(payload: bytes) -> str:
        try:
            data = json.loads(payload or b"{}")
        except ValueError:
            # The provider accepted the message; an unreadable receipt must not make us resend.
            return ""
        return str(data.get("id", "")) if isinstance(data, dict) else ""


def sms_backend() -> SmsBackend:
    path = getattr(settings, "REMINDER_SMS_BACKEND", DEFAULT_SMS_BACKEND)
    backend_class = import_string(path)
    if not (isinstance(backend_class, type) and issubclass(backend_class, SmsBackend)):
        raise ImproperlyConfigured(f"REMINDER_SMS_BACKEND {path!r} is not an SmsBackend.")
    return backend_class()


class SmsChannel:
    name = SMS

    def __init__(self, backend: SmsBackend | None = None) -> None:
        self.backend = backend or sms_backend()

    def send(self, *, to: str, message: OutgoingMessage) -> str:
        number = e164_or_error(to)
        text = message.sms_text or message.text
        if not text.strip():
            raise PermanentDeliveryError("Empty SMS text.")
        sender = message.sms_sender or getattr(settings, "REMINDER_SMS_SENDER", "")
        return self.backend.send(
            to=number, text=text, sender=sender, idempotency_key=message.idempotency_key
        )


def channel_for(name: str) -> Channel:
    """The channel for a reminder's channel value ("email" or "sms")."""
    if name == EMAIL:
        return EmailChannel()
    if name == SMS:
        return SmsChannel()
    raise ValueError(f"Unknown reminder channel {name!r}.")
