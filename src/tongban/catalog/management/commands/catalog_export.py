"""Export the catalog: ``manage.py catalog_export --kind items --format xlsx -o items.xlsx``.

Without ``--user`` the whole catalog is exported; with it, the departments of that catalog
administrator's data scope. CSV of a kind with several sheets is a .zip of CSV files.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tongban.catalog import exchange


class Command(BaseCommand):
    help = "Export service items, powers with their ledger, or supervision items (XLSX or CSV)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=exchange.KINDS, required=True)
        parser.add_argument("--format", choices=exchange.FORMATS, default="xlsx")
        parser.add_argument("-o", "--output", help="file to write (default: the suggested name)")
        parser.add_argument("--user", help="export as this catalog administrator (their scope)")

    def handle(self, *args, kind, format, output, user, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("未找到用户“%(u)s”。") % {"u": user})
        result = exchange.export_catalog(kind, format, user=actor)
        path = Path(output or result.filename)
        if format == "csv" and len(exchange.SHEETS[kind]) > 1 and path.suffix.lower() != ".zip":
            self.stderr.write(_("提示：该内容有多个表，CSV 导出为 ZIP 压缩包。"))
        path.write_bytes(result.data)
        self.stdout.write(
            _("已导出 %(rows)s 行到 %(path)s。") % {"rows": result.rows, "path": path}
        )
