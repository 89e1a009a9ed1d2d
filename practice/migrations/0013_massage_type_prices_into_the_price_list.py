# A massage type's single price (shown to patients so far) becomes a row of the price list for
# its default length, in force from before any session was booked. Where billing already had a
# price for that length (copied by billing 0003), its rows take over from their own moment on.

from datetime import UTC, datetime

from django.db import migrations

SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def into_the_price_list(apps, schema_editor):
    MassageType = apps.get_model("practice", "MassageType")
    Price = apps.get_model("practice", "Price")
    Price.objects.bulk_create(
        [
            Price(
                practice_id=kind.practice_id,
                massage_type=kind,
                minutes=kind.default_minutes,
                amount=kind.price,
                valid_from=SINCE,
            )
            for kind in MassageType.objects.filter(price__isnull=False)
        ],
        ignore_conflicts=True,
    )


def back_onto_the_types(apps, schema_editor):
    MassageType = apps.get_model("practice", "MassageType")
    Price = apps.get_model("practice", "Price")
    now = datetime.now(UTC)
    for kind in MassageType.objects.all():
        current = (
            Price.objects.filter(
                massage_type=kind, minutes=kind.default_minutes, valid_from__lte=now
            )
            .order_by("-valid_from")
            .first()
        )
        if current is not None:
            kind.price = current.amount
            kind.save(update_fields=["price"])


class Migration(migrations.Migration):

    dependencies = [
        ('practice', '0012_price'),
    ]

    operations = [
        migrations.RunPython(into_the_price_list, back_onto_the_types),
    ]
