"""The catalog administrator's import / export page (目录导入导出), mounted at
/workbench/catalog/exchange/.

Export downloads the catalog as XLSX or CSV; import uploads a file, creates an ImportJob that
runs in the background, and the job page shows its progress by htmx polling and, at the end,
the summary or the full error table by sheet, row and column.
"""

from __future__ import annotations

import csv
import io
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tongban.core.errors import DomainError
from tongban.org.roles import Role
from tongban.org.scopes import has_role, scope_for

from . import exchange
from .models import ImportJob, ItemVersion, ServiceItem

_OPEN_STATES = (ItemVersion.State.DRAFT, ItemVersion.State.SUBMITTED, ItemVersion.State.APPROVED)

FORMAT_CHOICES = [
    ("xlsx", gettext_lazy("Excel 工作簿（.xlsx）")),
    ("csv", gettext_lazy("CSV（UTF-8，多表时为 .zip）")),
]


def catalog_admin_required(view):
    """Signed-in catalog administrators (or superusers); others get the 403 page."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or has_role(user, Role.CATALOG_ADMIN)):
            raise PermissionDenied(_("只有事项管理员可以导入或导出目录。"))
        return view(request, *args, **kwargs)

    return wrapper


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("导出内容"), choices=ImportJob.Kind.choices)
    format = forms.ChoiceField(
        label=gettext_lazy("文件格式"),
        choices=FORMAT_CHOICES,
        initial="xlsx",
        widget=forms.RadioSelect,
    )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("导入内容"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy(
            "支持 .xlsx、UTF-8 编码的 .csv，以及装有多个 CSV 文件的 .zip，大小不超过 20 MB。"
            "建议先导出现有目录作为模板。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.zip"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > exchange.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件过大：上限为 %(n)s MB。") % {"n": exchange.MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


def _workbench_context(request) -> dict:
    """What the catalog workbench layout shows around these pages: the navigation counters of
    the items in the administrator's scope."""
    user = request.user
    items = ServiceItem.objects.all()
    if not user.is_superuser:
        items = items.filter(department__in=scope_for(user, Role.CATALOG_ADMIN).departments())
    states = dict(
        ItemVersion.objects.filter(item__in=items.values("pk"), state__in=_OPEN_STATES)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return {
        "wb_current": "exchange",
        "exchange_url": reverse("catalog_exchange:index"),
        "counters": {
            "items": items.count(),
            "draft": states.get(ItemVersion.State.DRAFT, 0),
            "submitted": states.get(ItemVersion.State.SUBMITTED, 0),
            "approved": states.get(ItemVersion.State.APPROVED, 0),
        },
    }


def _home(request, import_form=None, status=200):
    jobs = Paginator(exchange.jobs_for(request.user), 10).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/exchange/home.html",
        {
            **_workbench_context(request),
            "export_form": ExportForm(),
            "import_form": import_form or ImportForm(),
            "jobs": jobs,
            "sheets": {
                kind: [spec.name for spec in specs] for kind, specs in exchange.SHEETS.items()
            },
            "max_mb": exchange.MAX_UPLOAD_BYTES // (1024 * 1024),
        },
        status=status,
    )


@require_GET
@catalog_admin_required
def exchange_home(request):
    return _home(request)


@require_GET
@catalog_admin_required
def export_download(request):
    form = ExportForm(request.GET)
    if not form.is_valid():
        return _home(request, status=400)
    result = exchange.export_catalog(
        form.cleaned_data["kind"], form.cleaned_data["format"], user=request.user, request=request
    )
    response = HttpResponse(result.data, content_type=result.content_type)
    response["Content-Disposition"] = content_disposition_header(True, result.filename)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@catalog_admin_required
def import_upload(request):
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _home(request, form, status=422)
    upload = form.cleaned_data["file"]
    try:
        job = exchange.create_job(
            kind=form.cleaned_data["kind"],
            filename=upload.name,
            data=upload.read(exchange.MAX_UPLOAD_BYTES + 1),
            by=request.user,
            request=request,
        )
    except DomainError as exc:
        form.add_error("file", exc.message)
        return _home(request, form, status=422)
    exchange.dispatch(job)
    return redirect("catalog_exchange:job", job_id=job.pk)


def _job_or_404(request, job_id: int) -> ImportJob:
    job = exchange.jobs_for(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


def _job_context(job: ImportJob) -> dict:
    progress = exchange.job_progress(job)
    by_sheet: dict[str, list[dict]] = {}
    for error in job.errors or []:
        by_sheet.setdefault(error.get("sheet") or _("文件"), []).append(error)
    summary = job.summary or {}
    return {
        "job": job,
        "progress": progress,
        "errors_by_sheet": by_sheet,
        "summary": summary,
        "summary_rows": _summary_rows(job.kind, summary),
        "warnings": summary.get("warnings") or [],
    }


def _summary_rows(kind: str, summary: dict) -> list[tuple[str, int]]:
    """The summary as labelled numbers for the page."""
    rows: list[tuple[str, int]] = [(_("处理行数"), summary.get("rows", 0))]
    if kind == "items":
        items = summary.get("items") or {}
        rows += [
            (_("新增事项"), items.get("created", 0)),
            (_("形成新版本（待审核）"), items.get("new_versions", 0)),
            (_("更新事项属性"), items.get("attributes_updated", 0)),
            (_("无变化的事项"), items.get("unchanged", 0)),
            (_("直接发布"), items.get("published", 0)),
            (_("新增受理范围调整"), summary.get("acceptance_rules_created", 0)),
        ]
    elif kind == "powers":
        powers = summary.get("powers") or {}
        rows += [
            (_("新增权力"), powers.get("created", 0)),
            (_("更新权力"), powers.get("updated", 0)),
            (_("无变化的权力"), powers.get("unchanged", 0)),
            (_("新增台账条目"), (summary.get("ledger") or {}).get("created", 0)),
        ]
    else:
        items = summary.get("supervision") or {}
        rows += [
            (_("新增监管事项"), items.get("created", 0)),
            (_("更新监管事项"), items.get("updated", 0)),
            (_("无变化的监管事项"), items.get("unchanged", 0)),
        ]
    rows.append((_("变更合计"), summary.get("changes", 0)))
    return rows


@require_GET
@catalog_admin_required
def job_detail(request, job_id: int):
    job = _job_or_404(request, job_id)
    context = {**_workbench_context(request), **_job_context(job)}
    return render(request, "catalog/exchange/job.html", context)


@require_http_methods(["GET"])
@catalog_admin_required
def job_progress(request, job_id: int):
    """The progress block alone, for htmx polling (it stops polling once the job ends)."""
    job = _job_or_404(request, job_id)
    response = render(request, "catalog/exchange/_progress.html", _job_context(job))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@catalog_admin_required
def job_errors_csv(request, job_id: int):
    """The error list of a failed import as CSV (UTF-8 with BOM), to fix the file row by row."""
    job = _job_or_404(request, job_id)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("工作表"), _("行号"), _("列"), _("错误说明")])
    for e in job.errors or []:
        writer.writerow([e.get("sheet", ""), e.get("row", ""), e.get("column", ""), e["message"]])
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    filename = f"import-{job.pk}-errors.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
