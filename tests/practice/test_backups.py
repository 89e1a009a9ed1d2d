"""`manage.py backup` and `manage.py restore`: everything comes back, bad input is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from patients.models import Patient
from practice.audit.models import AuditEntry
from practice.models import Practice
from sessions.models import Session
from tests.factories import CourseFactory, PatientFactory

pytestmark = pytest.mark.postgres


def _server() -> psycopg.Connection:
    database = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        autocommit=True,
    )


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restored"
    with _server() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _server() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _restored(name: str) -> psycopg.Connection:
    database = connection.settings_dict
    return psycopg.connect(
        dbname=name,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
    )


def _count(restored: psycopg.Connection, table: str) -> int:
    row = restored.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_everything(
    practice: Practice, fresh_database: str, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    (media / "clearances").mkdir(parents=True)
    (media / "clearances" / "letter.pdf").write_bytes(b"%PDF doctor's letter")
    CourseFactory(patient=PatientFactory(practice=practice))
    PatientFactory(practice=practice)
    expected = (Patient.objects.count(), Session.objects.count(), AuditEntry.objects.count())
    assert all(expected)
    with override_settings(MEDIA_ROOT=media):
        call_command("backup", output_dir=tmp_path / "backups")
    [archive] = (tmp_path / "backups").glob("backup-*.tar.gz")
    restored_media = tmp_path / "restored-media"
    call_command("restore", str(archive), into_database=fresh_database, media_root=restored_media)
    with _restored(fresh_database) as restored:
        tables = ("patients_patient", "therapy_sessions_session", "audit_auditentry")
        assert tuple(_count(restored, table) for table in tables) == expected
        # The audit trail stays append-only in the restored database.
        with pytest.raises(psycopg.errors.RaiseException, match="Cannot update or delete"):
            restored.execute("DELETE FROM audit_auditentry")
    assert (restored_media / "clearances" / "letter.pdf").read_bytes() == b"%PDF doctor's letter"
    with pytest.raises(CommandError, match="not empty"):
        call_command(
            "restore", str(archive), into_database=fresh_database, media_root=tmp_path / "other"
        )


@pytest.mark.django_db
def test_restore_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No backup at"):
        call_command("restore", str(tmp_path / "nothing.tar.gz"))


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_no_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_text("not an archive")
    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore", str(bogus))


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(practice: Practice, tmp_path: Path) -> None:
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        call_command("backup", output_dir=tmp_path)
    [archive] = tmp_path.glob("backup-*.tar.gz")
    # The configured (test) database holds the practice: never overwritten.
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(archive), media_root=tmp_path / "empty-media")
