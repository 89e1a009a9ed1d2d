# Billing's prices move into the catalogue's price list (`practice.prices`, created by practice
# 0012): the same rows, amounts and moments, so every session keeps the price it was booked at.

from django.db import migrations

FIELDS = ("practice_id", "massage_type_id", "minutes", "amount", "tax_rate", "valid_from")


def copy(source, target):
    target.objects.bulk_create(
        [target(**{name: getattr(row, name) for name in FIELDS}) for row in source.objects.all()],
        ignore_conflicts=True,
    )


def into_the_catalogue(apps, schema_editor):
    copy(apps.get_model("billing", "Price"), apps.get_model("practice", "Price"))


def back_into_billing(apps, schema_editor):
    copy(apps.get_model("practice", "Price"), apps.get_model("billing", "Price"))


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0002_deposits_and_provider_refunds'),
        ('practice', '0012_price'),
    ]

    operations = [
        migrations.RunPython(into_the_catalogue, back_into_billing),
    ]
