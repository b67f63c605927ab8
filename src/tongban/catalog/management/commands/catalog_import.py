"""Import a catalog file: ``manage.py catalog_import items.xlsx --kind items --user admin``.

Every row is checked first; all errors are printed (sheet, row, column, message) and the
command exits with status 1 without writing anything. ``--publish --approved-by OTHER`` is
for migrating a catalog already reviewed elsewhere: changed items are submitted by ``--user``,
approved by ``--approved-by`` (a different catalog administrator: four eyes) and published.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tongban.catalog import exchange
from tongban.core.errors import DomainError


class Command(BaseCommand):
    help = "Import service items, powers with their ledger, or supervision items (XLSX/CSV/ZIP)."

    def add_arguments(self, parser):
        parser.add_argument("path", help=".xlsx, .csv or .zip of CSV files")
        parser.add_argument("--kind", choices=exchange.KINDS, required=True)
        parser.add_argument("--user", required=True, help="the catalog administrator importing")
        parser.add_argument("--publish", action="store_true", help="approve and publish changes")
        parser.add_argument("--approved-by", help="the second catalog administrator (--publish)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("未找到用户“%(u)s”。") % {"u": username})
        return user

    def handle(self, *args, path, kind, user, publish, approved_by, json, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(_("文件不存在：%(p)s") % {"p": path})
        if file.stat().st_size > exchange.MAX_UPLOAD_BYTES:
            raise CommandError(
                _("文件过大：上限为 %(n)s MB。") % {"n": exchange.MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        actor = self._user(user)
        approver = self._user(approved_by) if approved_by else None
        if publish and approver is None:
            raise CommandError(_("直接发布须用 --approved-by 指定另一位事项管理员作为审核人。"))
        try:
            result = exchange.import_file(
                file.name,
                file.read_bytes(),
                kind,
                actor,
                publish=publish,
                approved_by=approver,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        exchange.record_import(actor, kind, file.name, result, publish=publish)
        if json:
            self.stdout.write(_json_dump({"errors": result.errors, "summary": result.summary}))
        if not result.ok:
            if not json:
                for e in result.errors:
                    where = e["sheet"] or _("文件")
                    self.stderr.write(
                        _("%(sheet)s 第 %(row)s 行 %(column)s：%(message)s")
                        % {
                            "sheet": where,
                            "row": e["row"],
                            "column": e["column"] or "—",
                            "message": e["message"],
                        }
                    )
            raise CommandError(_("发现 %(n)s 处错误，未导入任何内容。") % {"n": len(result.errors)})
        if not json:
            for w in result.warnings:
                self.stderr.write(
                    _("请核对：%(sheet)s 第 %(row)s 行：%(message)s")
                    % {"sheet": w["sheet"], "row": w["row"], "message": w["message"]}
                )
            self.stdout.write(
                _("导入完成：%(rows)s 行，%(changes)s 处变更。")
                % {"rows": result.summary.get("rows", 0), "changes": result.changes}
            )


def _json_dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
