# Prices are the catalogue's now (copied by 0003).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0003_prices_into_the_catalogue'),
    ]

    operations = [
        migrations.DeleteModel(
            name='Price',
        ),
    ]
