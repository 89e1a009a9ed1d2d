# The price list (`practice.prices`) is the one source of prices (after 0013 moved them there).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('practice', '0013_massage_type_prices_into_the_price_list'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='massagetype',
            name='price',
        ),
    ]
