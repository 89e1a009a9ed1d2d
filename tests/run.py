"""`make test`: choose the database and broker, say so, and run pytest.

DATABASE_URL and REDIS_URL are used when set. Unset, PostgreSQL and Redis on localhost's
standard ports are used when they answer; else SQLite, and the tests marked `postgres` or
`redis` are skipped (with CI=true they fail instead: see tests/conftest.py).
"""

from __future__ import annotations

import os
import secrets
import socket
import sys

import pytest

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/practice"
# Separate Redis databases, so clearing the test cache never drops queued tasks.
LOCAL_REDIS = "redis://127.0.0.1:6379/15"
LOCAL_BROKER = "redis://127.0.0.1:6379/14"


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def choose_services(environ: dict[str, str]) -> list[str]:
    """Fill in the environment; return the loud lines to print about what is missing."""
    missing = []
    if "DATABASE_URL" not in environ:
        if answers("127.0.0.1", 5432):
            environ["DATABASE_URL"] = LOCAL_POSTGRES
        else:
            missing.append("PostgreSQL")
    if "REDIS_URL" not in environ:
        if answers("127.0.0.1", 6379):
            environ["REDIS_URL"] = LOCAL_REDIS
            environ.setdefault("CELERY_BROKER_URL", LOCAL_BROKER)
        else:
            missing.append("Redis")
    return missing


def main() -> int:
    missing = choose_services(os.environ)
    # The tests run with DEBUG off, like production, where the settings refuse to start
    # without a key: a fresh one per run (tests and the workers they start share it).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    if missing:
        print(
            f"\n*** {' and '.join(missing)} not reachable: running on the embedded defaults; "
            f"tests that need {' and '.join(missing)} are SKIPPED (fatal with CI=true). ***\n",
            flush=True,
        )
    database = os.environ.get("DATABASE_URL", "SQLite")
    print(f"Database: {database}; Redis: {os.environ.get('REDIS_URL', 'none')}")
    return pytest.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
