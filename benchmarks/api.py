"""The API over HTTP, side by side with the bare-DRF floor (`benchmarks.floor`).

Both run under the same gunicorn command (2 sync workers, DEBUG off) on the bench database,
and are asked in turn, one request each, so a busy moment of the machine falls on both alike.
The figures are ratios to the floor: the floor's own milliseconds depend on the machine, the
ratio is what the request plumbing around our endpoints costs.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.client import HTTPConnection
from pathlib import Path

from rest_framework_simplejwt.tokens import AccessToken

from benchmarks.data import World
from benchmarks.figures import line, next_weekday, today
from practice.models import Membership, Role, User

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
LATENCY_ROUNDS = 400
CLIENTS = 4
THROUGHPUT_SECONDS = 3.0
THROUGHPUT_ROUNDS = 5
BENCH_USER = "desk@bench.example"
# As a request arrives from the TLS proxy in front of the app: plain HTTP would be redirected.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Server:
    port: int
    settings: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(settings: str) -> Iterator[Server]:
    """gunicorn serving the project with `settings`, until the block ends."""
    server = Server(port=free_port(), settings=settings)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "DEBUG": "false"}
    env.setdefault("PYTHONWARNINGS", "ignore:No directory at")  # whitenoise: no collectstatic
    command = [sys.executable, "-m", "gunicorn", "practice.wsgi:application"]
    process = subprocess.Popen(
        [*command, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{server.port}"],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = clock.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                break
            except OSError:
                if clock.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"gunicorn with {settings} did not start") from None
                clock.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(port: int, path: str, token: str) -> float:
    """One request on a fresh connection (gunicorn's sync workers close each one); its
    milliseconds. Anything but a 200 stops the bench: a fast error is no figure."""
    begin = clock.perf_counter()
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={**PROXY_HEADERS, "Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    elapsed = (clock.perf_counter() - begin) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
    return elapsed


def _hammer(port: int, path: str, token: str, seconds: float, done: multiprocessing.Queue) -> None:
    count, stop = 0, clock.monotonic() + seconds
    while clock.monotonic() < stop:
        get(port, path, token)
        count += 1
    done.put(count)


def throughput(port: int, path: str, token: str) -> float:
    """Requests per second with CLIENTS processes asking at once for THROUGHPUT_SECONDS."""
    done: multiprocessing.Queue = multiprocessing.Queue()
    clients = [
        multiprocessing.Process(target=_hammer, args=(port, path, token, THROUGHPUT_SECONDS, done))
        for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    total = sum(done.get() for _ in clients)
    for client in clients:
        client.join()
    return total / THROUGHPUT_SECONDS


def bench_token(world: World) -> str:
    user = User.objects.filter(email=BENCH_USER).first()
    if user is None:
        user = User.objects.create_user(email=BENCH_USER, password=None)
        Membership.objects.create(practice=world.practice, user=user, role=Role.FRONT_DESK)
    return str(AccessToken.for_user(user))


def api_vs_floor(world: World) -> Iterator[str]:
    token = bench_token(world)
    patient = world.patients[0]
    tuesday = next_weekday(today(world) + timedelta(days=14), 1)
    ours = {
        "patient_detail": f"/api/v1/patients/{patient.pk}/",
        "availability_one_day": (
            f"/api/v1/availability/?therapist={world.therapists[0].pk}"
            f"&from={tuesday}&to={tuesday}&duration=30"
        ),
        "patients_list_20": "/api/v1/patients/?page_size=20",
    }
    floor_path = f"/floor/patients/{patient.pk}/"
    with served("practice.settings") as product, served("benchmarks.floor.settings") as floor:
        for path in ours.values():  # warm every worker's connection and caches
            for _ in range(2 * WORKERS):
                get(product.port, path, token)
        for _ in range(2 * WORKERS):
            get(floor.port, floor_path, token)

        floor_ms: list[float] = []
        ours_ms: dict[str, list[float]] = {name: [] for name in ours}
        for _ in range(LATENCY_ROUNDS):
            floor_ms.append(get(floor.port, floor_path, token))
            for name, path in ours.items():
                ours_ms[name].append(get(product.port, path, token))
        floor_p50 = statistics.median(floor_ms)
        yield line("floor_p50", floor_p50, "ms", LATENCY_ROUNDS)
        for name, samples in ours_ms.items():
            yield line(
                f"{name}_p50_ratio",
                statistics.median(samples) / floor_p50,
                "x floor",
                LATENCY_ROUNDS,
            )

        ours_rps, floor_rps = [], []
        for _ in range(THROUGHPUT_ROUNDS):
            floor_rps.append(throughput(floor.port, floor_path, token))
            ours_rps.append(throughput(product.port, ours["patient_detail"], token))
        floor_median = statistics.median(floor_rps)
        yield line(f"floor_throughput_{CLIENTS}_clients", floor_median, "req/s", THROUGHPUT_ROUNDS)
        yield line(
            f"patient_detail_throughput_{CLIENTS}_clients_ratio",
            statistics.median(ours_rps) / floor_median,
            "x floor",
            THROUGHPUT_ROUNDS,
        )
