"""The managers' report pages under /p/<practice>/reports/: the list of reports, one report with
its period filter, charts and tables, and each table as CSV. Managers only (R24: the period is
read in the practice's time zone)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from practice.models import Role
from practice.tenancy import PracticeRequest
from practice.web import practice_page
from reports.charts import bar_chart
from reports.csv_export import table_csv
from reports.period import Period, PeriodForm
from reports.registry import Report, registry

manager_page = practice_page(Role.MANAGER)


def _report(slug: str) -> Report:
    report = registry.get(slug)
    if report is None:
        raise Http404(_("No such report."))
    return report


def _period_form(request: PracticeRequest) -> PeriodForm:
    form = PeriodForm(request.GET, today=timezone.localdate(timezone=request.practice.zone))
    form.is_valid()
    return form


def _shown(period: Period, form: PeriodForm) -> PeriodForm:
    """The filter as it applies, with the defaults written in."""
    values = {"from": period.first, "to": period.last, "group": period.grouping.value}
    return PeriodForm(values, today=form.today)


@manager_page
def report_index(request: PracticeRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"reports": registry.all()})


@manager_page
def report_page(request: PracticeRequest, slug: str) -> HttpResponse:
    report = _report(slug)
    form = _period_form(request)
    if form.period is None:
        context = {"report": report, "form": form, "sections": []}
        return render(request, "reports/report.html", context, status=400)
    tables = report.tables(practice=request.practice, period=form.period)
    context = {
        "report": report,
        "form": _shown(form.period, form),
        "period": form.period,
        "query": request.GET.urlencode(),
        "sections": [(table, bar_chart(table)) for table in tables],
    }
    return render(request, "reports/report.html", context)


@manager_page
def report_csv(request: PracticeRequest, slug: str, table: str) -> HttpResponse:
    report = _report(slug)
    if table not in report.table_keys:
        raise Http404(_("No such table."))
    form = _period_form(request)
    if form.period is None:
        return HttpResponse(
            "\n".join(
                f"{name}: {' '.join(str(error) for error in errors)}"
                for name, errors in form.errors.items()
            ),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    found = next(
        t for t in report.tables(practice=request.practice, period=form.period) if t.key == table
    )
    period = form.period
    filename = f"{report.slug}-{table}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    return HttpResponse(
        table_csv(found),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
