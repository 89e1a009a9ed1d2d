"""Load the shared default contraindication catalogue (domain-rules.md R2–R6, R8)."""

from django.db import migrations

from patients.catalogue import DEFAULT_CONTRAINDICATIONS


def load_defaults(apps, schema_editor):
    Contraindication = apps.get_model("patients", "Contraindication")
    for position, item in enumerate(DEFAULT_CONTRAINDICATIONS, start=1):
        Contraindication.objects.update_or_create(
            practice=None,
            code=item.code,
            defaults={
                "name": item.name,
                "question": item.question,
                "kind": item.kind,
                "blocks_types": list(item.blocks_types),
                "clearable": item.clearable,
                "position": position * 10,
                "active": True,
            },
        )


def unload_defaults(apps, schema_editor):
    Contraindication = apps.get_model("patients", "Contraindication")
    Contraindication.objects.filter(
        practice=None, code__in=[item.code for item in DEFAULT_CONTRAINDICATIONS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_screening")]

    operations = [migrations.RunPython(load_defaults, unload_defaults)]
