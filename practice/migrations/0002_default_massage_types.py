"""Give every existing practice the default massage type catalogue (domain-rules.md).

New practices get theirs from practice.services.practice_create()."""

from django.db import migrations

DEFAULTS = (
    ("classical", "Classical", 15),
    ("relaxing", "Relaxing", 20),
    ("therapeutic", "Therapeutic", 30),
    ("sports", "Sports", 30),
    ("cupping", "Cupping / vacuum", 15),
    ("vibration", "Vibration", 15),
    ("lymphatic", "Lymphatic drainage", 30),
    ("honey", "Honey", 20),
    ("self", "Self-massage (taught)", 25),
)


def load_defaults(apps, schema_editor):
    Practice = apps.get_model("practice", "Practice")
    MassageType = apps.get_model("practice", "MassageType")
    for practice in Practice.objects.all():
        for position, (code, name, minutes) in enumerate(DEFAULTS, start=1):
            MassageType.objects.get_or_create(
                practice=practice,
                code=code,
                defaults={"name": name, "default_minutes": minutes, "rotation_order": position},
            )


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
