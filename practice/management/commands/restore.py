"""`manage.py restore ARCHIVE`: a backup back into an empty database and media folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from practice.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an empty database and an empty "
        "media folder (it never overwrites data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="The backup-….tar.gz file.")
        parser.add_argument(
            "--into-database",
            default="",
            help="PostgreSQL: restore into this (empty) database on the same server instead of "
            "the configured one, e.g. to check a backup.",
        )
        parser.add_argument(
            "--media-root",
            type=Path,
            default=None,
            help="Where to restore the uploaded documents (default: MEDIA_ROOT).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup_restore(
                archive=options["archive"],
                database=connections["default"].settings_dict,
                media_root=options["media_root"] or Path(settings.MEDIA_ROOT),
                into_database=options["into_database"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored {options['archive']}.")
