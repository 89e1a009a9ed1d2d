"""`manage.py backup`: the database and uploaded documents into a timestamped archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils import timezone

from practice.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and uploaded documents into a timestamped .tar.gz archive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=Path(settings.BACKUP_DIR),
            help="Folder for the archive (default: BACKUP_DIR).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            archive = backup_create(
                database=connections["default"].settings_dict,
                media_root=Path(settings.MEDIA_ROOT),
                into=options["output_dir"],
                now=timezone.now(),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(archive))
