"""Import / export over the API (/api/v1/catalog/...) and the workbench pages
(/workbench/catalog/exchange/): who may use them, uploads, idempotency, jobs and progress."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from tests.catalog.factories import make_catalog_admin, make_item
from tests.conftest import bearer
from tongban.catalog import exchange
from tongban.catalog.models import ImportJob

XLSX = exchange.XLSX_CONTENT_TYPE


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CATALOG_IMPORT_INLINE = True


@pytest.fixture
def items(world):
    food = make_item(world, "食品经营许可", aliases="开饭店")
    make_item(world, "出生登记", item_type="07", subject="natural", promised=0, legal=None)
    return food


def export_bytes(kind: str = "items") -> bytes:
    return exchange.export_catalog(kind, "xlsx").data


def upload(name: str, data: bytes, content_type: str = XLSX) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def with_bad_type(data: bytes) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    wb["事项"].cell(2, 4, "不存在的类型")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------
# export


def test_export_download_for_catalog_admins(client, world, items):
    headers = bearer(client, "catalog_admin")
    response = client.get("/api/v1/catalog/export?kind=items&format=xlsx", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    assert ".xlsx" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    assert wb.sheetnames[:3] == ["事项", "材料", "环节"]
    response = client.get("/api/v1/catalog/export?kind=powers&format=csv", **headers)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    response = client.get("/api/v1/catalog/export?kind=supervision&format=csv", **headers)
    assert response.content.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("username", ["citizen", "enterprise", "city_clerk", "reviewer", "auditor"])
def test_export_is_forbidden_to_others(client, world, items, username):
    response = client.get("/api/v1/catalog/export?kind=items", **bearer(client, username))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_export_needs_authentication_and_valid_parameters(client, world):
    assert client.get("/api/v1/catalog/export?kind=items").status_code == 401
    headers = bearer(client, "catalog_admin")
    response = client.get("/api/v1/catalog/export?kind=cases&format=xlsx", **headers)
    assert response.status_code == 422
    response = client.get("/api/v1/catalog/export?kind=items&format=xls", **headers)
    assert response.status_code == 422


# ------------------------------------------------------------------------------------------
# imports


def test_import_job_runs_and_reports_progress(client, world, items):
    headers = bearer(client, "catalog_admin")
    response = client.post(
        "/api/v1/catalog/imports",
        {"kind": "items", "file": upload("目录.xlsx", export_bytes())},
        **headers,
    )
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "done" and job["finished"] is True
    assert job["total_rows"] == job["processed_rows"] > 0 and job["percent"] == 100
    assert job["summary"]["changes"] == 0 and job["errors"] == []
    assert job["original_name"] == "目录.xlsx"
    detail = client.get(f"/api/v1/catalog/imports/{job['id']}", **headers)
    assert detail.status_code == 200 and detail.json()["id"] == job["id"]
    listing = client.get("/api/v1/catalog/imports", **headers).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == job["id"]


def test_failed_import_lists_errors_by_sheet_row_and_column(client, world, items):
    headers = bearer(client, "catalog_admin")
    response = client.post(
        "/api/v1/catalog/imports",
        {"kind": "items", "file": upload("bad.xlsx", with_bad_type(export_bytes()))},
        **headers,
    )
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "failed" and job["error_count"] == 1
    assert job["errors"][0] | {"message": ""} == {
        "sheet": "事项",
        "row": 2,
        "column": "事项类型",
        "message": "",
    }
    assert job["summary"]["changes"] == 0


def test_import_is_idempotent_with_a_key(client, world, items):
    headers = {**bearer(client, "catalog_admin"), "HTTP_IDEMPOTENCY_KEY": "import-2026-11-27-1"}
    data = export_bytes()
    first = client.post(
        "/api/v1/catalog/imports", {"kind": "items", "file": upload("a.xlsx", data)}, **headers
    )
    again = client.post(
        "/api/v1/catalog/imports", {"kind": "items", "file": upload("a.xlsx", data)}, **headers
    )
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert ImportJob.objects.count() == 1
    other = client.post(
        "/api/v1/catalog/imports",
        {"kind": "items", "file": upload("a.xlsx", with_bad_type(data))},
        **headers,
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_a_text_file_named_xlsx_is_refused(client, world):
    response = client.post(
        "/api/v1/catalog/imports",
        {"kind": "items", "file": upload("catalog.xlsx", "实施编码,事项名称\n".encode())},
        **bearer(client, "catalog_admin"),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_file"
    assert body["details"][0]["field"] == "file"
    assert not ImportJob.objects.exists()


def test_oversized_uploads_are_refused(client, world, monkeypatch):
    headers = bearer(client, "catalog_admin")
    monkeypatch.setattr(exchange, "MAX_UPLOAD_BYTES", 1024)
    # Just over the limit: parsed, then refused.
    response = client.post(
        "/api/v1/catalog/imports",
        {"kind": "items", "file": upload("a.csv", b"x" * 2048, "text/csv")},
        **headers,
    )
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    # Far over the limit: refused by its length before the body is read.
    response = client.post(
        "/api/v1/catalog/imports",
        {"kind": "items", "file": upload("a.csv", b"x" * 200_000, "text/csv")},
        **headers,
    )
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("username", ["citizen", "city_clerk", "approver", "supervisor"])
def test_applicants_and_clerks_cannot_import(client, world, items, username):
    response = client.post(
        "/api/v1/catalog/imports",
        {"kind": "items", "file": upload("a.xlsx", export_bytes())},
        **bearer(client, username),
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_anonymous_cannot_import(client, world, items):
    response = client.post(
        "/api/v1/catalog/imports", {"kind": "items", "file": upload("a.xlsx", export_bytes())}
    )
    assert response.status_code == 401
    assert client.get("/api/v1/catalog/imports/1").status_code == 401


def test_jobs_are_private_to_their_owner(client, world, items):
    job = exchange.create_job(
        kind="items", filename="a.xlsx", data=export_bytes(), by=world.user("catalog_admin")
    )
    make_catalog_admin(world, "catalog_admin2")
    response = client.get(f"/api/v1/catalog/imports/{job.pk}", **bearer(client, "catalog_admin2"))
    assert response.status_code == 404
    response = client.get(f"/api/v1/catalog/imports/{job.pk}", **bearer(client, "city_clerk"))
    assert response.status_code == 403


# ------------------------------------------------------------------------------------------
# workbench pages

PAGE = "/workbench/catalog/exchange/"


def test_pages_are_for_catalog_admins(client, world):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    client.force_login(world.user("city_clerk"))
    assert client.get(PAGE).status_code == 403
    client.force_login(world.user("catalog_admin"))
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "目录导入导出" in html and 'enctype="multipart/form-data"' in html
    assert "还没有导入记录" in html


def test_page_export_upload_progress_and_result(client, world, items):
    client.force_login(world.user("catalog_admin"))
    response = client.get(PAGE + "export/?kind=items&format=xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    response = client.post(
        PAGE + "imports/", {"kind": "items", "file": upload("目录.xlsx", response.content)}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == f"{PAGE}imports/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page and "导入完成" in page
    assert "hx-trigger" not in page  # finished: no more polling
    partial = client.get(f"{PAGE}imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert (
        "<html" not in partial.content.decode() and 'data-status="done"' in partial.content.decode()
    )
    assert "目录.xlsx" in client.get(PAGE).content.decode()


def test_page_shows_a_running_job_polling(client, world, items):
    admin = world.user("catalog_admin")
    client.force_login(admin)
    job = exchange.create_job(kind="items", filename="a.xlsx", data=export_bytes(), by=admin)
    page = client.get(f"{PAGE}imports/{job.pk}/").content.decode()
    assert 'hx-get="' + f"{PAGE}imports/{job.pk}/progress/" in page
    assert 'hx-trigger="every 1s"' in page and "<progress" in page


def test_page_lists_errors_and_offers_them_as_csv(client, world, items):
    client.force_login(world.user("catalog_admin"))
    response = client.post(
        PAGE + "imports/",
        {"kind": "items", "file": upload("bad.xlsx", with_bad_type(export_bytes()))},
    )
    job = ImportJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "未导入任何内容" in page and "事项类型" in page and "不存在的类型" in page
    errors = client.get(f"{PAGE}imports/{job.pk}/errors.csv")
    assert errors.status_code == 200
    text = errors.content.decode("utf-8-sig")
    assert "事项,2,事项类型" in text


def test_page_refuses_a_disguised_file_next_to_the_field(client, world):
    client.force_login(world.user("catalog_admin"))
    response = client.post(
        PAGE + "imports/", {"kind": "items", "file": upload("a.xlsx", b"just text")}
    )
    assert response.status_code == 422
    assert "不是 Excel 工作簿" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_other_peoples_jobs_are_not_found(client, world, items):
    job = exchange.create_job(
        kind="items", filename="a.xlsx", data=export_bytes(), by=world.user("catalog_admin")
    )
    client.force_login(make_catalog_admin(world, "catalog_admin2"))
    assert client.get(f"{PAGE}imports/{job.pk}/").status_code == 404
    assert client.get(f"{PAGE}imports/{job.pk}/errors.csv").status_code == 404
