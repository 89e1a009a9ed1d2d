"""`make bench`: scheduling figures on a realistic PostgreSQL database.

It uses its own database (BENCH_DATABASE_URL, else `practice_bench` on the server of a
PostgreSQL DATABASE_URL, else on localhost), creates and migrates it, and generates once a
practice with 10 therapists and 200,000 past sessions (about seven years of history). Each run
then prints one line per figure (`make bench ARGS="api booking"` runs only the figures named):

    bench <name>: <value> <unit> (median of <N> runs)

These are measurements, not assertions: targets live in the issue, results in the report.
"""

from __future__ import annotations

import os
import statistics
import sys
import time as clock
from collections.abc import Callable
from urllib.parse import urlparse, urlunparse

BENCH_DB_NAME = "practice_bench"
DEFAULT_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB_NAME}"


def bench_database_url(environ: dict[str, str]) -> str:
    if environ.get("BENCH_DATABASE_URL"):
        return environ["BENCH_DATABASE_URL"]
    current = urlparse(environ.get("DATABASE_URL", ""))
    if current.scheme.startswith("postgres"):
        # Same server, never the developer's own database: the bench writes 200k rows.
        return urlunparse(current._replace(path=f"/{BENCH_DB_NAME}"))
    return DEFAULT_URL


def database_create(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    maintenance = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> int:
    url = bench_database_url(os.environ)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    database_create(url)

    import django

    django.setup()
    from django.core.management import call_command

    print(f"# database: {url}", flush=True)
    call_command("migrate", verbosity=0, interactive=False)

    from benchmarks.data import bench_practice

    started = clock.perf_counter()
    world = bench_practice()
    print(f"# data ready in {clock.perf_counter() - started:.1f} s: {world.summary}", flush=True)

    from benchmarks.figures import FIGURES

    chosen = set(sys.argv[1:])
    for figure in FIGURES:
        if chosen and figure.__name__ not in chosen:
            continue
        for line in figure(world):
            print(line, flush=True)
    return 0


def median_ms(run: Callable[[int], object], times: int) -> float:
    """Median wall time of `run(i)` in milliseconds over `times` runs (after one warm-up)."""
    run(-1)
    samples = []
    for index in range(times):
        begin = clock.perf_counter()
        run(index)
        samples.append((clock.perf_counter() - begin) * 1000)
    return statistics.median(samples)


if __name__ == "__main__":
    sys.exit(main())
