from django.db import migrations

from practice.db import PostgresOnlyRunSQL


class Migration(migrations.Migration):
    """Substring search over phone and email (patients.selectors.patient_search) uses these
    trigram indexes with 100k patients (PostgreSQL only; pg_trgm comes from 0002)."""

    dependencies = [("patients", "0004_default_contraindications")]

    operations = [
        PostgresOnlyRunSQL(
            "CREATE INDEX patient_phone_trgm_idx ON patients_patient "
            "USING gin (phone gin_trgm_ops);",
            "DROP INDEX IF EXISTS patient_phone_trgm_idx;",
        ),
        PostgresOnlyRunSQL(
            "CREATE INDEX patient_email_trgm_idx ON patients_patient "
            "USING gin (email gin_trgm_ops);",
            "DROP INDEX IF EXISTS patient_email_trgm_idx;",
        ),
    ]
