"""Reminder delivery channels (R21, R22): email through Django's backend, SMS through the
console backend and the HTTP provider backend. The provider is a tiny HTTP server on
127.0.0.1 started by the test; nothing leaves the machine."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from smtplib import SMTPRecipientsRefused, SMTPSenderRefused, SMTPServerDisconnected
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage

from sessions.reminders.channels import (
    Attachment,
    ConsoleSmsBackend,
    EmailChannel,
    HttpSmsBackend,
    OutgoingMessage,
    PermanentDeliveryError,
    SmsChannel,
    TransientDeliveryError,
    UnknownDeliveryOutcome,
    channel_for,
    sms_backend,
)
from sessions.reminders.ics import ICS_MIMETYPE

MESSAGE = OutgoingMessage(
    subject="Linden: your massage session on 30 March is booked",
    text="Hello Anna,\n\nYour session is booked.\n",
    html="<p>Hello Anna,</p><p>Your session is booked.</p>",
    sms_text="Linden: your massage session is booked for 30.03.2026 at 18:00.",
    attachments=(Attachment("session.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", ICS_MIMETYPE),),
    sender_name="Linden Massage",
    sender_email="linden@example.org",
    reply_to="desk@example.org",
)


@pytest.fixture(autouse=True)
def _empty_sms_log() -> Iterator[None]:
    ConsoleSmsBackend.clear()
    yield
    ConsoleSmsBackend.clear()


# Email ---------------------------------------------------------------------------------------


def test_r21_email_has_text_html_attachment_and_the_practices_sender(mailoutbox: list) -> None:
    message_id = EmailChannel().send(to="anna@example.org", message=MESSAGE)

    [mail] = mailoutbox
    assert mail.to == ["anna@example.org"]
    assert mail.from_email == "Linden Massage <linden@example.org>"
    assert mail.reply_to == ["desk@example.org"]
    assert mail.subject == MESSAGE.subject
    assert mail.body == MESSAGE.text
    assert mail.alternatives[0][0] == MESSAGE.html
    assert mail.alternatives[0][1] == "text/html"
    filename, content, mimetype = mail.attachments[0]
    assert (filename, mimetype) == ("session.ics", "text/calendar")
    assert "BEGIN:VCALENDAR" in content
    assert message_id
    assert mail.message()["Message-ID"] == message_id


def test_r21_email_without_a_practice_sender_uses_the_sites_default(
    mailoutbox: list, settings: Any
) -> None:
    settings.DEFAULT_FROM_EMAIL = "practice@example.net"
    bare = OutgoingMessage(subject="Hello", text="Body")

    EmailChannel().send(to="anna@example.org", message=bare)

    assert mailoutbox[0].from_email == "practice@example.net"
    assert mailoutbox[0].alternatives == []


@pytest.mark.parametrize("address", ["", "   ", "anna", "anna@", "anna@@example.org"])
def test_r22_an_empty_or_invalid_email_address_is_a_permanent_failure(
    address: str, mailoutbox: list
) -> None:
    with pytest.raises(PermanentDeliveryError):
        EmailChannel().send(to=address, message=MESSAGE)
    assert mailoutbox == []


@dataclass
class FailingConnection:
    error: Exception

    def send_messages(self, messages: list[EmailMessage]) -> int:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            SMTPRecipientsRefused({"anna@example.org": (550, b"no such user")}),
            PermanentDeliveryError,
        ),
        (
            SMTPRecipientsRefused({"anna@example.org": (450, b"mailbox busy")}),
            TransientDeliveryError,
        ),
        (SMTPSenderRefused(553, b"sender refused", "linden@example.org"), TransientDeliveryError),
        (SMTPServerDisconnected("gone"), UnknownDeliveryOutcome),
        (ConnectionRefusedError(111, "refused"), TransientDeliveryError),
        (TimeoutError("timed out"), UnknownDeliveryOutcome),
    ],
)
def test_r22_smtp_failures_are_sorted_into_permanent_and_transient(
    error: Exception, expected: type[Exception]
) -> None:
    channel = EmailChannel(connection=FailingConnection(error))

    with pytest.raises(expected):
        channel.send(to="anna@example.org", message=MESSAGE)


def silent_smtp_server() -> tuple[int, threading.Event]:
    """An SMTP server on 127.0.0.1 that takes a whole message and then never answers; returns
    its port and an Event set once it has the message."""
    listener = socket.create_server(("127.0.0.1", 0))
    took_message = threading.Event()

    def serve() -> None:
        connection, _address = listener.accept()
        with connection, connection.makefile("rwb") as stream:
            stream.write(b"220 silent.example ESMTP\r\n")
            stream.flush()
            in_data = False
            for line in stream:
                if in_data:
                    if line == b".\r\n":
                        took_message.set()
                        time.sleep(3)  # ... and no "250 queued" ever comes
                        return
                    continue
                reply = b"354 go on\r\n" if line.upper().startswith(b"DATA") else b"250 ok\r\n"
                in_data = line.upper().startswith(b"DATA")
                stream.write(reply)
                stream.flush()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], took_message


def test_r22_an_smtp_server_silent_after_taking_the_message_is_an_unknown_outcome(
    settings: Any,
) -> None:
    port, took_message = silent_smtp_server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = 0.5

    started = time.monotonic()
    with pytest.raises(UnknownDeliveryOutcome, match="did not answer"):
        EmailChannel().send(to="anna@example.org", message=MESSAGE)

    assert took_message.is_set()
    # EMAIL_TIMEOUT bounds the wait: no SMTP server holds a reminder for long.
    assert time.monotonic() - started < 2.5


# SMS: console backend ------------------------------------------------------------------------


def test_r21_console_sms_is_logged_and_kept_for_tests(settings: Any) -> None:
    settings.REMINDER_SMS_SENDER = "Linden"

    message_id = SmsChannel(ConsoleSmsBackend()).send(to="+49 151 2345 6789", message=MESSAGE)

    [sent] = ConsoleSmsBackend.sent()
    assert (sent.to, sent.text, sent.sender) == ("+4915123456789", MESSAGE.sms_text, "Linden")
    assert sent.message_id == message_id


def test_r21_the_console_backend_is_the_default(settings: Any) -> None:
    assert isinstance(sms_backend(), ConsoleSmsBackend)
    assert isinstance(channel_for("sms"), SmsChannel)
    assert isinstance(channel_for("email"), EmailChannel)
    with pytest.raises(ValueError, match="pigeon"):
        channel_for("pigeon")


def test_r22_console_sms_log_file_counts_sends_across_processes(
    settings: Any, tmp_path: Any
) -> None:
    log = tmp_path / "sms.jsonl"
    settings.REMINDER_SMS_LOG_FILE = str(log)
    channel = SmsChannel(ConsoleSmsBackend())

    channel.send(to="+4915123456789", message=MESSAGE)
    channel.send(to="+4915123456780", message=MESSAGE)

    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [line["to"] for line in lines] == ["+4915123456789", "+4915123456780"]
    assert len({line["id"] for line in lines}) == 2


@pytest.mark.parametrize("number", ["", "  ", "12", "not a number", "0151 2345678"])
def test_r22_an_empty_or_invalid_phone_number_is_a_permanent_failure(number: str) -> None:
    with pytest.raises(PermanentDeliveryError):
        SmsChannel(ConsoleSmsBackend()).send(to=number, message=MESSAGE)
    assert ConsoleSmsBackend.sent() == []


def test_sms_text_falls_back_to_the_plain_text_and_is_never_empty() -> None:
    channel = SmsChannel(ConsoleSmsBackend())

    channel.send(to="+4915123456789", message=OutgoingMessage(subject="s", text="Short text"))
    assert ConsoleSmsBackend.sent()[0].text == "Short text"
    with pytest.raises(PermanentDeliveryError):
        channel.send(to="+4915123456789", message=OutgoingMessage(subject="s", text=" "))


def test_the_sms_backend_setting_must_name_an_sms_backend(settings: Any) -> None:
    settings.REMINDER_SMS_BACKEND = "sessions.reminders.channels.EmailChannel"

    with pytest.raises(ImproperlyConfigured):
        sms_backend()


# SMS: HTTP provider backend against a local server -------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"id": "msg-1"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeProvider:
    url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    # urllib honours http_proxy from the environment; the fake provider must be reached
    # directly, never through a proxy that could send the request off the machine.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = FakeProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            reply = state.replies.pop(0) if state.replies else Reply()
            time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                # The timeout test's client has given up by now; that is what it tests.
                return

        def log_message(self, format: str, *args: Any) -> None:
            # Keep test output quiet; the requests are recorded in `state`.
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # A short poll interval keeps shutdown() quick between tests.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/sms"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def backend(provider: FakeProvider, **kwargs: Any) -> HttpSmsBackend:
    return HttpSmsBackend(url=provider.url, token=kwargs.pop("token", "secret"), **kwargs)


def test_r21_http_sms_posts_json_with_the_token_and_returns_the_providers_id(
    provider: FakeProvider,
) -> None:
    message_id = SmsChannel(backend(provider)).send(
        to="+49 151 23456789", message=OutgoingMessage(subject="", text="", sms_text="Hi")
    )

    assert message_id == "msg-1"
    [request] = provider.requests
    assert request["path"] == "/sms"
    assert request["json"] == {"to": "+4915123456789", "text": "Hi", "sender": ""}
    assert request["headers"]["Authorization"] == "Bearer secret"
    assert request["headers"]["Content-Type"] == "application/json"


def test_r21_http_sms_reads_its_configuration_from_settings(
    provider: FakeProvider, settings: Any
) -> None:
    settings.REMINDER_SMS_BACKEND = "sessions.reminders.channels.HttpSmsBackend"
    settings.REMINDER_SMS_HTTP_URL = provider.url
    settings.REMINDER_SMS_HTTP_TOKEN = "from-settings"
    settings.REMINDER_SMS_HTTP_TIMEOUT = 3

    sent = sms_backend()
    sent.send(to="+4915123456789", text="Hi")

    assert isinstance(sent, HttpSmsBackend)
    assert sent.timeout == 3.0
    assert provider.requests[0]["headers"]["Authorization"] == "Bearer from-settings"


@pytest.mark.parametrize("status", [400, 404, 422])
def test_r22_a_provider_refusing_the_number_is_a_permanent_failure(
    provider: FakeProvider, status: int
) -> None:
    provider.replies.append(Reply(status, b'{"error": "invalid number"}'))

    with pytest.raises(PermanentDeliveryError, match="invalid number") as raised:
        backend(provider).send(to="+4915123456789", text="Hi")
    assert str(status) in str(raised.value)


@pytest.mark.parametrize("status", [500, 502, 503, 401, 408])
def test_r22_server_errors_and_refused_credentials_are_transient(
    provider: FakeProvider, status: int
) -> None:
    provider.replies.append(Reply(status, b"try later"))

    with pytest.raises(TransientDeliveryError, match=str(status)):
        backend(provider).send(to="+4915123456789", text="Hi")


def test_r22_a_rate_limit_is_transient_and_carries_retry_after(provider: FakeProvider) -> None:
    provider.replies.append(Reply(429, b"slow down", {"Retry-After": "30"}))

    with pytest.raises(TransientDeliveryError) as raised:
        backend(provider).send(to="+4915123456789", text="Hi")
    assert raised.value.retry_after == 30.0


def test_r22_a_provider_timeout_is_an_unknown_outcome(provider: FakeProvider) -> None:
    provider.replies.append(Reply(delay=1.0))

    started = time.monotonic()
    with pytest.raises(UnknownDeliveryOutcome, match="did not answer"):
        backend(provider, timeout=0.2).send(to="+4915123456789", text="Hi")
    assert time.monotonic() - started < 1.0


def test_r22_an_unreachable_provider_is_transient() -> None:
    # A port that was free a moment ago: nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(TransientDeliveryError, match="unreachable"):
        HttpSmsBackend(url=f"http://127.0.0.1:{port}/sms", token="t", timeout=1).send(
            to="+4915123456789", text="Hi"
        )


def test_r22_an_accepted_message_with_an_unreadable_receipt_counts_as_sent(
    provider: FakeProvider,
) -> None:
    provider.replies.append(Reply(202, b"queued"))

    assert backend(provider).send(to="+4915123456789", text="Hi") == ""
    assert len(provider.requests) == 1


def test_r22_an_invalid_number_never_reaches_the_provider(provider: FakeProvider) -> None:
    with pytest.raises(PermanentDeliveryError):
        SmsChannel(backend(provider)).send(to="12", message=MESSAGE)
    assert provider.requests == []


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://127.0.0.1/sms"])
def test_the_http_backend_refuses_anything_but_an_http_url(url: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        HttpSmsBackend(url=url, token="t")
