from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from practice.db import PostgresOnlyRunSQL


class Migration(migrations.Migration):
    """Substring search over names stays fast with 100k patients (PostgreSQL only; SQLite
    scans, which is fine at a laptop's size)."""

    dependencies = [("patients", "0001_initial")]

    operations = [
        TrigramExtension(),
        PostgresOnlyRunSQL(
            "CREATE INDEX patient_name_trgm_idx ON patients_patient "
            "USING gin ((given_name || ' ' || family_name) gin_trgm_ops);",
            "DROP INDEX IF EXISTS patient_name_trgm_idx;",
        ),
    ]
