"""Backups of the whole practice system: the database and the uploaded documents.

A backup is one timestamped `.tar.gz` holding `manifest.json`, the database (`database.dump`,
pg_dump's custom format, on PostgreSQL; `database.sqlite3` on SQLite) and `media/` (doctors'
letters and other uploads). Restoring needs an *empty* database and an empty media folder: a
restore never merges into, or overwrites, live records. The audit trail is restored with
everything else; its append-only trigger is part of the dump and comes back with it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

MANIFEST = "manifest.json"
POSTGRES_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA = "media"
FORMAT_VERSION = 1


class BackupError(Exception):
    """A backup or restore that cannot be done, with what to do about it."""


def _vendor(database: Mapping[str, Any]) -> str:
    engine = str(database["ENGINE"])
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {engine}.")


def _client(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            f"{program} is not installed: install the PostgreSQL client "
            "(Debian: postgresql-client)."
        )
    return found


def _pg_environment(database: Mapping[str, Any], name: str) -> tuple[list[str], dict[str, str]]:
    arguments = ["--dbname", name]
    if database.get("HOST"):
        arguments += ["--host", str(database["HOST"])]
    if database.get("PORT"):
        arguments += ["--port", str(database["PORT"])]
    if database.get("USER"):
        arguments += ["--username", str(database["USER"])]
    environment = {**os.environ}
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    return arguments, environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")


def backup_create(
    *, database: Mapping[str, Any], media_root: Path, into: Path, now: datetime
) -> Path:
    """Write a backup archive into the folder `into`; returns its path."""
    vendor = _vendor(database)
    into.mkdir(parents=True, exist_ok=True)
    archive = into / f"backup-{now:%Y%m%dT%H%M%SZ}.tar.gz"
    if archive.exists():
        raise BackupError(f"{archive} exists already: wait a second and run it again.")
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / (POSTGRES_DUMP if vendor == "postgresql" else SQLITE_COPY)
        if vendor == "postgresql":
            arguments, environment = _pg_environment(database, str(database["NAME"]))
            _run(
                [_client("pg_dump"), "--format=custom", "--file", str(dump), *arguments],
                environment,
            )
        else:
            # SQLite's online backup: a consistent copy even while the app writes.
            with sqlite3.connect(str(database["NAME"])) as source, sqlite3.connect(dump) as copy:
                source.backup(copy)
        manifest = Path(work) / MANIFEST
        manifest.write_text(
            json.dumps({"format": FORMAT_VERSION, "vendor": vendor, "created_at": now.isoformat()})
        )
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(manifest, arcname=MANIFEST)
            tar.add(dump, arcname=dump.name)
            if media_root.is_dir():
                tar.add(media_root, arcname=MEDIA)
        # Renamed only when complete: a backup folder never shows a half-written archive.
        partial.rename(archive)
    return archive


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
    except KeyError:
        member = None
    if member is None:
        raise BackupError(f"{archive} is not a backup of this system (no {MANIFEST}).")
    manifest: dict[str, Any] = json.load(member)
    return manifest


def _postgres_is_empty(database: Mapping[str, Any], name: str) -> bool:
    try:
        with psycopg.connect(
            dbname=name,
            host=database.get("HOST") or None,
            port=database.get("PORT") or None,
            user=database.get("USER") or None,
            password=database.get("PASSWORD") or None,
        ) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
    except psycopg.OperationalError as exc:
        raise BackupError(f"Cannot reach database {name}: {exc}") from exc
    return row is not None and row[0] == 0


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


@dataclass(frozen=True)
class RestoreTarget:
    database: Mapping[str, Any]
    name: str
    vendor: str
    media_root: Path


def backup_restore(
    *, archive: Path, database: Mapping[str, Any], media_root: Path, into_database: str = ""
) -> None:
    """Restore `archive` into an empty database (the configured one, or `into_database` on
    the same PostgreSQL server) and an empty media folder."""
    if not archive.is_file():
        raise BackupError(f"No backup at {archive}.")
    target = RestoreTarget(
        database=database,
        name=into_database or str(database["NAME"]),
        vendor=_vendor(database),
        media_root=media_root,
    )
    try:
        with tarfile.open(archive, "r:gz") as tar, tempfile.TemporaryDirectory() as work:
            _check_target(_read_manifest(tar, archive), target)
            # The "data" filter refuses absolute paths, links out of the folder, device files.
            tar.extractall(work, filter="data")
            _restore_from(Path(work), target)
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{archive} is not a readable backup archive: {exc}") from exc


def _check_target(manifest: dict[str, Any], target: RestoreTarget) -> None:
    if manifest.get("vendor") != target.vendor:
        raise BackupError(
            f"This backup is of a {manifest.get('vendor')} database; "
            f"this system uses {target.vendor}."
        )
    if target.media_root.is_dir() and any(target.media_root.iterdir()):
        raise BackupError(
            f"The media folder {target.media_root} is not empty: restore into an empty one."
        )
    empty = (
        _postgres_is_empty(target.database, target.name)
        if target.vendor == "postgresql"
        else _sqlite_is_empty(Path(target.name))
    )
    if not empty:
        raise BackupError(f"Database {target.name} is not empty: restore into an empty database.")


def _restore_from(work: Path, target: RestoreTarget) -> None:
    if target.vendor == "postgresql":
        arguments, environment = _pg_environment(target.database, target.name)
        _run(
            [
                _client("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                *arguments,
                str(work / POSTGRES_DUMP),
            ],
            environment,
        )
    else:
        shutil.copyfile(work / SQLITE_COPY, target.name)
    restored_media = work / MEDIA
    if restored_media.is_dir():
        shutil.copytree(restored_media, target.media_root, dirs_exist_ok=True)
