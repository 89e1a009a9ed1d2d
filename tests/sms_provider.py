"""A stand-in SMS provider on 127.0.0.1, for the tests and `make bench`: it answers the POSTs of
`HttpSmsBackend` after a fixed delay, as a real provider's API does, delivers each
`Idempotency-Key` once (a resend gets the first message's id, like a provider that honours the
key), and counts what it was asked and how many requests it was serving at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    message_id: str
    to: str
    text: str
    sender: str
    # time.time() when the provider took it.
    at: float


@dataclass
class ProviderLog:
    url: str = ""
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    delivered: dict[str, Delivery] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def duplicates(self) -> int:
        """Requests for a key already delivered: resends the key kept from the patient."""
        return self.requests - len(self.delivered)

    def senders(self) -> set[str]:
        with self.lock:
            return {delivery.sender for delivery in self.delivered.values()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Two workers' threads connect at once; the default backlog of 5 would drop connections.
    request_queue_size = 256


@contextmanager
def sms_provider(delay: float) -> Iterator[ProviderLog]:
    """Serve the stand-in provider in a thread for the duration of the block."""
    log = ProviderLog()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            key = self.headers.get("Idempotency-Key") or f"no-key-{time.monotonic_ns()}"
            with log.lock:
                log.requests += 1
                log.in_flight += 1
                log.max_in_flight = max(log.max_in_flight, log.in_flight)
            time.sleep(delay)
            with log.lock:
                log.in_flight -= 1
                if key not in log.delivered:
                    log.delivered[key] = Delivery(
                        message_id=f"standin-{len(log.delivered) + 1}",
                        to=body["to"],
                        text=body["text"],
                        sender=body["sender"],
                        at=time.time(),
                    )
                reply = json.dumps({"id": log.delivered[key].message_id}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            # Thousands of requests; the counts are in `log`.
            return

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    log.url = f"http://127.0.0.1:{server.server_port}/sms"
    try:
        yield log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def provider_env(url: str, **extra: str) -> dict[str, str]:
    """What a worker process needs to send to the stand-in provider at `url`, never through a
    proxy."""
    return {
        "REMINDER_SMS_BACKEND": "sessions.reminders.channels.HttpSmsBackend",
        "REMINDER_SMS_HTTP_URL": url,
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }
