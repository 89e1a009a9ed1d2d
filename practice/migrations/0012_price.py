# The price list moves into the catalogue (`practice.prices`): the one source of prices. Its
# rows come from billing's table (billing 0003) and from the massage types' single price (0013).

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('practice', '0011_second_factor_and_idle_sessions'),
    ]

    operations = [
        migrations.CreateModel(
            name='Price',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('minutes', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(5), django.core.validators.MaxValueValidator(240)], verbose_name='minutes')),
                ('amount', models.DecimalField(decimal_places=3, max_digits=14, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='price')),
                ('tax_rate', models.DecimalField(blank=True, decimal_places=2, help_text="Empty: the practice's rate.", max_digits=5, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='tax rate (%)')),
                ('valid_from', models.DateTimeField(verbose_name='valid from')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('massage_type', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='prices', to='practice.massagetype')),
                ('practice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='practice.practice', verbose_name='practice')),
            ],
            options={
                'verbose_name': 'price',
                'verbose_name_plural': 'prices',
                'ordering': ['massage_type', 'minutes', '-valid_from'],
                'constraints': [models.UniqueConstraint(fields=('practice', 'massage_type', 'minutes', 'valid_from'), name='price_list_one_per_moment')],
            },
        ),
    ]
