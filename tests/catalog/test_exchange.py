"""Catalog import and export (exchange.py): the file format, round trips, all-or-nothing
imports with every error by sheet / row / column, four eyes, scopes, uploads and jobs."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from tests.catalog.factories import make_catalog_admin, make_item
from tongban.catalog import acceptance, exchange, ledger, lifecycle, services, supervision
from tongban.catalog.models import (
    AcceptanceBatch,
    AcceptanceRule,
    ImportJob,
    ItemVersion,
    LedgerEntry,
    Material,
    Power,
    ProcessStep,
    SearchTerm,
    ServiceItem,
    SupervisionItem,
)
from tongban.core.errors import Forbidden
from tongban.core.models import AuditEvent

FORMULA_TEXT = '=HYPERLINK("tel:12345")'


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CATALOG_IMPORT_INLINE = True


@pytest.fixture
def admin(world):
    return world.user("catalog_admin")


@pytest.fixture
def second(world):
    return make_catalog_admin(world, "catalog_admin2")


@pytest.fixture
def catalog(world, admin):
    """Items of several kinds (a sub-item, a 即办件, a suspended item, a charged item with a
    formula-like text and an ambiguous theme label), an acceptance batch, powers with a
    delegation, a recovery and an entrustment, and two supervision items."""
    food_power = ledger.create_power(
        code="P-SCJG-001",
        name="食品经营许可",
        category="01",
        department=world.market_dept,
        basis="《中华人民共和国食品安全法》第三十五条",
        by=admin,
    )
    drug_power = ledger.create_power(
        code="P-SCJG-002",
        name="药品零售许可",
        category="01",
        department=world.market_dept,
        by=admin,
    )
    ledger.record_entry(
        food_power, "delegate", world.functional_area, date(2020, 6, 1), "东府〔2020〕1号", by=admin
    )
    ledger.record_entry(
        food_power, "recover", world.functional_area, date(2021, 1, 1), "东府〔2021〕2号", by=admin
    )
    ledger.record_entry(
        drug_power,
        "entrust",
        world.town,
        date(2020, 7, 1),
        "东府〔2020〕3号",
        receiving_body="大朗镇人民政府",
        note="试点",
        by=admin,
    )
    food = make_item(
        world,
        "食品经营许可",
        code="11441900MB2C91234X4442111000",
        power=food_power,
        aliases="开饭店\n开餐馆",
        keywords="餐饮\n小吃店",
        themes=["b_permits", "b_social_security"],
        life_events=["operating_permit"],
        charges_fee=True,
        fee_items="工本费 10 元",
        fee_basis="《收费标准》",
        online_payment=True,
        consultation=FORMULA_TEXT,
        high_frequency=True,
        appointment_supported=True,
        appointment_daily_quota=50,
    )
    make_item(world, "食品经营许可（变更）", parent=food, business_kind="change")
    make_item(
        world,
        "出生登记",
        item_type="07",
        subject="natural",
        promised=0,
        legal=None,
        department=world.town_dept,
        themes=["p_social_security"],
        life_events=["birth"],
        materials=[{"name": "出生医学证明", "kind": "original", "form": "paper", "copies": 1}],
    )
    make_item(
        world,
        "旧版卫生许可",
        item_type="20",
        department=world.health_dept,
        status="suspended",
        scope="citywide",
    )
    acceptance.delegate_acceptance(
        [food], "any_town", "东府办〔2020〕40号", date(2020, 6, 15), admin, title="首批就近办事项"
    )
    supervision.create_supervision_item(
        code="JG-001",
        name="对食品经营者的监督检查",
        department=world.market_dept,
        basis="《食品安全法》",
        measures="现场检查\n抽样检验",
        object="食品经营者",
        powers=[food_power],
        by=admin,
    )
    supervision.create_supervision_item(
        code="JG-002",
        name="药品零售企业监督检查",
        department=world.market_dept,
        powers=[drug_power, food_power],
        by=admin,
    )
    return {"food": food, "food_power": food_power, "drug_power": drug_power}


# ------------------------------------------------------------------------------------------
# helpers


def xlsx_edit(data: bytes, edit) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def col(ws, header: str) -> int:
    headers = [c.value for c in ws[1]]
    return headers.index(header) + 1


def row_of(ws, header: str, value) -> int:
    c = col(ws, header)
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, c).value == value:
            return r
    raise AssertionError(f"{value} not in {header}")


def set_cell(ws, row: int, header: str, value) -> None:
    ws.cell(row, col(ws, header), value)


def errors_at(result) -> set[tuple[str, int, str]]:
    return {(e["sheet"], e["row"], e["column"]) for e in result.errors}


def dumps() -> dict:
    return {k: exchange.canonical_dump(k) for k in exchange.KINDS}


def version_count() -> int:
    return ItemVersion.objects.count()


def wipe_catalog() -> None:
    SearchTerm.objects.all().delete()
    AcceptanceRule.objects.all().delete()
    AcceptanceBatch.objects.all().delete()
    ServiceItem.objects.update(published_version=None)
    ServiceItem.objects.filter(parent__isnull=False).delete()
    ServiceItem.objects.all().delete()
    SupervisionItem.objects.all().delete()
    LedgerEntry.objects.filter(action="recover").delete()
    LedgerEntry.objects.all().delete()
    Power.objects.all().delete()


# ------------------------------------------------------------------------------------------
# the format


def test_every_content_field_has_a_column():
    """A version field, material field or step field without a column would be lost in a
    round trip; the canonical dump is generic over the models, so this pins the mapping."""
    item_keys = {c.key for c in exchange.ITEM_COLUMNS}
    assert set(exchange.VERSION_FIELDS) <= item_keys
    assert set(exchange.ITEM_IDENTITY_FIELDS) <= item_keys
    assert set(exchange.MATERIAL_FIELDS) <= {c.key for c in exchange.MATERIAL_COLUMNS}
    assert set(exchange.STEP_FIELDS) <= {c.key for c in exchange.STEP_COLUMNS}
    for specs in exchange.SHEETS.values():
        for spec in specs:
            assert len(spec.headers) == len(set(spec.headers)), spec.name


def test_headers_are_the_stable_chinese_format():
    assert [s.name for s in exchange.SHEETS["items"]] == [
        "事项",
        "材料",
        "环节",
        "常见问题",
        "受理范围",
    ]
    assert [s.name for s in exchange.SHEETS["powers"]] == ["权力", "调整台账"]
    assert exchange.ITEM_SHEET.headers[:8] == [
        "实施编码",
        "基本编码",
        "事项名称",
        "事项类型",
        "所属基本事项",
        "业务办理项类型",
        "实施主体",
        "实施主体编码",
    ]
    assert "网上办理深度" in exchange.ITEM_SHEET.headers
    assert exchange.LEDGER_SHEET.headers[:3] == ["权力编码", "调整方式", "承接区域代码"]


def test_xlsx_export_uses_chinese_labels_and_keeps_formula_text(catalog, admin):
    result = exchange.export_catalog("items", "xlsx", user=admin)
    assert result.filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(result.data))
    assert wb.sheetnames == ["事项", "材料", "环节", "常见问题", "受理范围", "填表说明"]
    ws = wb["事项"]
    r = row_of(ws, "事项名称", "食品经营许可")
    value = lambda h: ws.cell(r, col(ws, h)).value  # noqa: E731
    assert value("事项类型") == "行政许可"
    assert value("网上办理深度") == "Ⅳ级：全程网办"
    assert value("是否网办") == "是"
    assert value("高频事项") == "是"
    assert value("实施主体") == "东莞市市场监督管理局"
    assert value("对应行政权力编码") == "P-SCJG-001"
    # 社会保障 exists for 个人 and 法人: qualified on export.
    assert value("主题分类") == "准营准办；社会保障（法人）"
    assert value("咨询方式") == FORMULA_TEXT  # a string cell, not a formula
    assert ws.cell(r, col(ws, "咨询方式")).data_type == "s"
    steps = wb["环节"]
    assert steps.cell(2, col(steps, "办理人岗位")).value == "综合窗口人员"
    rules = wb["受理范围"]
    batch_row = row_of(rules, "文号", "东府办〔2020〕40号")
    assert rules.cell(batch_row, col(rules, "批量调整")).value == "是"
    assert rules.cell(batch_row, col(rules, "受理范围")).value.startswith("任一镇街中心可受理")


def test_csv_export_is_a_zip_of_bom_csv_files_with_escaped_formulas(catalog, admin):
    result = exchange.export_catalog("items", "csv", user=admin)
    assert result.filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(result.data))
    assert sorted(archive.namelist()) == sorted(
        ["items.csv", "materials.csv", "steps.csv", "faqs.csv", "acceptance.csv"]
    )
    raw = archive.read("items.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    food = next(r for r in rows if r["事项名称"] == "食品经营许可")
    assert food["咨询方式"] == "'" + FORMULA_TEXT  # Excel will not run it
    assert food["别名"] == "开饭店\n开餐馆"
    single = exchange.export_catalog("supervision", "csv", user=admin)
    assert single.filename.endswith(".csv") and single.data.startswith(b"\xef\xbb\xbf")


def test_export_is_limited_to_the_exporters_scope(world, catalog):
    town_admin = make_catalog_admin(world, "town_catalog", department=world.town_dept)
    result = exchange.export_catalog("items", "csv", user=town_admin)
    rows = list(
        csv.DictReader(
            io.StringIO(
                zipfile.ZipFile(io.BytesIO(result.data)).read("items.csv").decode("utf-8-sig")
            )
        )
    )
    assert [r["事项名称"] for r in rows] == ["出生登记"]


# ------------------------------------------------------------------------------------------
# round trips


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("kind", ["items", "powers", "supervision"])
def test_export_then_import_changes_nothing(catalog, admin, kind, fmt):
    before, versions, audit_seq = dumps(), version_count(), AuditEvent.objects.count()
    exported = exchange.export_catalog(kind, fmt, user=admin)
    result = exchange.import_file(exported.filename, exported.data, kind, admin)
    assert result.ok, result.errors
    assert result.changes == 0
    assert result.summary["rows"] == exported.rows > 0
    assert dumps() == before
    assert version_count() == versions
    assert AuditEvent.objects.count() == audit_seq + 1  # the export's own event only


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_into_an_empty_catalog_is_identical(catalog, admin, second, fmt):
    before = dumps()
    files = {kind: exchange.export_catalog(kind, fmt, user=admin) for kind in exchange.KINDS}
    wipe_catalog()
    assert not any(dumps().values())
    for kind in ("powers", "supervision"):
        result = exchange.import_file(files[kind].filename, files[kind].data, kind, admin)
        assert result.ok, result.errors
    result = exchange.import_file(
        files["items"].filename,
        files["items"].data,
        "items",
        admin,
        publish=True,
        approved_by=second,
    )
    assert result.ok, result.errors
    assert result.summary["items"]["created"] == 4
    assert result.summary["items"]["published"] == 4
    after = dumps()
    for kind in exchange.KINDS:
        assert after[kind] == before[kind], kind
    food = ServiceItem.objects.get(code=catalog["food"].code)
    assert food.published_version.approved_by == second  # four eyes recorded
    assert (
        food.acceptance_rules.get(effective_from=date(2020, 6, 15)).batch.title == "首批就近办事项"
    )
    # A second import of the same files changes nothing.
    again = exchange.import_file(files["items"].filename, files["items"].data, "items", admin)
    assert again.ok and again.changes == 0


# ------------------------------------------------------------------------------------------
# item changes and four eyes


def test_changed_row_becomes_a_submitted_version_for_a_second_person(catalog, admin, second):
    food = catalog["food"]
    published = food.published_version
    exported = exchange.export_catalog("items", "xlsx", user=admin)

    def edit(wb):
        ws = wb["事项"]
        r = row_of(ws, "实施编码", food.code)
        set_cell(ws, r, "承诺办结时限（工作日）", 6)
        set_cell(ws, r, "修订说明", "承诺时限调整")
        steps = wb["环节"]
        set_cell(steps, row_of(steps, "实施编码", food.code), "时限（工作日）", 2)

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    assert result.ok, result.errors
    assert result.summary["items"] == {
        "created": 0,
        "new_versions": 1,
        "attributes_updated": 0,
        "unchanged": 3,
        "published": 0,
    }
    food.refresh_from_db()
    assert food.published_version == published  # nothing goes live without review
    new = food.versions.get(number=2)
    assert new.state == ItemVersion.State.SUBMITTED
    assert new.promised_limit_days == 6 and new.change_note == "承诺时限调整"
    assert [s.days for s in new.steps.order_by("order")] == [2, 1, 1, 1, 1]
    assert new.materials.count() == published.materials.count()
    assert not lifecycle.can_transition(new, "approve", admin)  # the importer cannot approve
    with pytest.raises(Forbidden):
        services.approve(new, admin)
    services.approve(new, second)
    services.publish(new, admin)
    food.refresh_from_db()
    assert food.published_version.promised_limit_days == 6
    # The same file again: it equals the published version now.
    again = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    assert again.ok and again.changes == 0


def test_reimporting_while_the_version_awaits_review(catalog, admin):
    food = catalog["food"]
    exported = exchange.export_catalog("items", "xlsx", user=admin)
    first = xlsx_edit(
        exported.data,
        lambda wb: set_cell(
            wb["事项"], row_of(wb["事项"], "实施编码", food.code), "别名", "开饭馆"
        ),
    )
    assert exchange.import_file("a.xlsx", first, "items", admin).changes == 1
    same = exchange.import_file("a.xlsx", first, "items", admin)
    assert same.ok and same.changes == 0  # equal to the open version: nothing to do
    other = xlsx_edit(
        exported.data,
        lambda wb: set_cell(
            wb["事项"], row_of(wb["事项"], "实施编码", food.code), "别名", "卖吃的"
        ),
    )
    refused = exchange.import_file("b.xlsx", other, "items", admin)
    assert not refused.ok
    assert "待审核" in refused.errors[0]["message"]
    assert food.versions.count() == 2


def test_attribute_changes_apply_directly_but_identity_is_refused(catalog, admin, world):
    food = catalog["food"]
    exported = exchange.export_catalog("items", "xlsx", user=admin)

    def edit(wb):
        ws = wb["事项"]
        set_cell(ws, row_of(ws, "实施编码", food.code), "高频事项", "否")

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    assert result.ok and result.summary["items"]["attributes_updated"] == 1
    food.refresh_from_db()
    assert not food.high_frequency and food.versions.count() == 1

    def move(wb):
        ws = wb["事项"]
        r = row_of(ws, "实施编码", food.code)
        set_cell(ws, r, "实施主体", "")
        set_cell(ws, r, "实施主体编码", world.health_dept.code)

    refused = exchange.import_file("y.xlsx", xlsx_edit(exported.data, move), "items", admin)
    assert [(e["sheet"], e["column"]) for e in refused.errors] == [("事项", "实施主体")]
    assert "不能通过导入修改" in refused.errors[0]["message"]
    food.refresh_from_db()
    assert food.department == world.market_dept


def test_missing_columns_and_sheets_keep_current_values(catalog, admin):
    food = catalog["food"]
    exported = exchange.export_catalog("items", "xlsx", user=admin)

    def edit(wb):
        ws = wb["事项"]
        ws.delete_cols(col(ws, "受理条件"))
        set_cell(ws, row_of(ws, "实施编码", food.code), "事项名称", "食品经营许可（含小餐饮）")
        for name in ("材料", "环节", "常见问题", "受理范围"):
            del wb[name]

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    assert result.ok, result.errors
    assert result.changes == 1
    new = food.versions.get(number=2)
    old = food.published_version
    assert new.name == "食品经营许可（含小餐饮）"
    assert new.conditions == old.conditions
    assert [m.name for m in new.materials.order_by("order")] == [
        m.name for m in old.materials.order_by("order")
    ]
    assert new.steps.count() == 5 and new.faqs.count() == 1


def test_single_items_csv_and_codes_for_choices(catalog, admin):
    exported = exchange.export_catalog("items", "csv", user=admin)
    text = zipfile.ZipFile(io.BytesIO(exported.data)).read("items.csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    food = next(r for r in rows if r["事项名称"] == "食品经营许可")
    # Codes instead of labels, Excel-mangled "01" as "1", Ⅳ, Y/N.
    food.update({"事项类型": "1", "网上办理深度": "Ⅳ", "是否网办": "Y", "服务对象": "legal"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerow(food)
    result = exchange.import_file("items.csv", buffer.getvalue().encode("utf-8"), "items", admin)
    assert result.ok, result.errors
    assert result.changes == 0


def test_new_items_are_created_as_submitted_with_their_acceptance(world, admin, catalog):
    exported = exchange.export_catalog("items", "xlsx", user=admin)

    def edit(wb):
        ws = wb["事项"]
        src = row_of(ws, "实施编码", catalog["food"].code)
        new = ws.max_row + 1
        for c in range(1, ws.max_column + 1):
            ws.cell(new, c, ws.cell(src, c).value)
        set_cell(ws, new, "实施编码", "NEW-0001")
        set_cell(ws, new, "事项名称", "小餐饮登记")
        set_cell(ws, new, "对应行政权力编码", "")
        for name in ("材料", "环节"):
            sheet = wb[name]
            for r in range(2, sheet.max_row + 1):
                if sheet.cell(r, 1).value == catalog["food"].code:
                    values = [sheet.cell(r, c).value for c in range(1, sheet.max_column + 1)]
                    values[0] = "NEW-0001"
                    sheet.append(values)
        rules = wb["受理范围"]
        rules.append(["NEW-0001", "仅在实施部门所在中心受理", "2020-01-01", "", "否", ""])
        rules.append(
            ["NEW-0001", "就近办", "2020-06-15", "东府办〔2020〕40号", "是", "首批就近办事项"]
        )

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    # "就近办" is not a label of the choice (the label is the full sentence, or the code).
    assert [(e["sheet"], e["column"]) for e in result.errors] == [("受理范围", "受理范围")]
    assert result.errors[0]["row"] == 2 + AcceptanceRule.objects.count() + 1
    assert not ServiceItem.objects.filter(code="NEW-0001").exists()

    def fixed(wb):
        edit(wb)
        rules = wb["受理范围"]
        set_cell(rules, rules.max_row, "受理范围", "any_town")

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, fixed), "items", admin)
    assert result.ok, result.errors
    item = ServiceItem.objects.get(code="NEW-0001")
    version = item.versions.get()
    assert version.state == ItemVersion.State.SUBMITTED and item.published_version is None
    assert version.materials.count() == 3 and version.steps.count() == 5
    assert list(
        item.acceptance_rules.order_by("effective_from").values_list("scope", flat=True)
    ) == [
        "department_center",
        "any_town",
    ]
    # Rows of one batch (same 文号, 标题, scope, date) form one AcceptanceBatch.
    assert AcceptanceBatch.objects.filter(document_no="东府办〔2020〕40号").count() == 2
    assert result.summary["acceptance_batches_created"] == 1


# ------------------------------------------------------------------------------------------
# all or nothing


def test_every_row_error_is_reported_and_nothing_is_written(catalog, admin, world):
    before, versions = dumps(), version_count()
    exported = exchange.export_catalog("items", "xlsx", user=admin)
    food_code = catalog["food"].code
    expected: set[tuple[str, int, str]] = set()

    def edit(wb):
        ws = wb["事项"]
        food = row_of(ws, "实施编码", food_code)
        # a valid change that must not be written either
        set_cell(ws, food, "事项名称", "食品经营许可（新）")
        birth = row_of(ws, "事项名称", "出生登记")
        set_cell(ws, birth, "事项类型", "行政许可证")  # not a choice
        expected.add(("事项", birth, "事项类型"))
        old = row_of(ws, "事项名称", "旧版卫生许可")
        set_cell(ws, old, "法定办结时限（工作日）", 3)  # promised 5 > legal 3: cross-field rule
        expected.add(("事项", old, "承诺办结时限（工作日）"))
        set_cell(ws, old, "到办事现场次数", "两次")  # not an integer
        expected.add(("事项", old, "到办事现场次数"))
        dup = ws.max_row + 1
        for c in range(1, ws.max_column + 1):
            ws.cell(dup, c, ws.cell(food, c).value)
        expected.add(("事项", dup, "实施编码"))  # the same 实施编码 twice
        unknown = dup + 1
        for c in range(1, ws.max_column + 1):
            ws.cell(unknown, c, ws.cell(food, c).value)
        set_cell(ws, unknown, "实施编码", "NEW-0002")
        set_cell(ws, unknown, "实施主体", "东莞市不存在局")
        set_cell(ws, unknown, "实施主体编码", "")
        expected.add(("事项", unknown, "实施主体"))
        materials = wb["材料"]
        m = row_of(materials, "实施编码", food_code)
        set_cell(materials, m, "必要性", "可能需要")
        expected.add(("材料", m, "必要性"))
        steps = wb["环节"]
        steps.append(["NO-SUCH-ITEM", 1, "受理", "受理", "综合窗口人员", "", 1])
        expected.add(("环节", steps.max_row, "实施编码"))
        s = row_of(steps, "实施编码", food_code)
        set_cell(steps, s, "办理人岗位", "门卫")
        expected.add(("环节", s, "办理人岗位"))

    result = exchange.import_file("bad.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    assert not result.ok
    assert expected <= errors_at(result), result.errors
    for e in result.errors:
        assert e["message"] and e["row"] >= 2
    assert result.summary["changes"] == 0
    assert dumps() == before
    assert version_count() == versions


def test_a_refusal_by_a_service_rolls_back_the_whole_import(catalog, admin, world):
    """Overlapping ledger entries are only found by ledger.record_entry while writing: the
    new power written before it is rolled back too."""
    before = dumps()
    exported = exchange.export_catalog("powers", "xlsx", user=admin)

    def edit(wb):
        powers = wb["权力"]
        powers.append(["P-NEW-001", "新权力", "行政许可", "东莞市卫生健康局", "", "市级", "", "是"])
        ledger_ws = wb["调整台账"]
        # The drug power is entrusted to 大朗镇 since 2020-07-01 and never recovered; delegating
        # it to the functional area that contains 大朗镇 overlaps.
        ledger_ws.append(
            [
                "P-SCJG-002",
                "下放",
                world.functional_area.code,
                "",
                "",
                "2022-01-01",
                "东府〔2022〕9号",
                "",
            ]
        )

    result = exchange.import_file("p.xlsx", xlsx_edit(exported.data, edit), "powers", admin)
    assert not result.ok
    (error,) = result.errors
    assert error["sheet"] == "调整台账" and error["row"] == 5
    assert "重叠" in error["message"]
    assert dumps() == before
    assert not Power.objects.filter(code="P-NEW-001").exists()


# ------------------------------------------------------------------------------------------
# powers, ledger and supervision


def test_ledger_rows_are_appended_and_followed_by_who_exercises(catalog, admin, world):
    exported = exchange.export_catalog("powers", "csv", user=admin)
    archive = zipfile.ZipFile(io.BytesIO(exported.data))
    ledger_csv = archive.read("ledger.csv").decode("utf-8-sig")
    ledger_csv += f"P-SCJG-002,收回,{world.town.code},大朗镇,,2023-03-01,东府〔2023〕5号,\r\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("powers.csv", archive.read("powers.csv"))
        z.writestr("ledger.csv", ("\ufeff" + ledger_csv).encode("utf-8"))
    result = exchange.import_file("p.zip", out.getvalue(), "powers", admin)
    assert result.ok, result.errors
    assert result.summary["ledger"]["created"] == 1 and result.changes == 1
    drug = catalog["drug_power"]
    assert ledger.who_exercises(drug, world.village, date(2023, 2, 28)).mode == "entrust"
    assert ledger.who_exercises(drug, world.village, date(2023, 3, 1)).mode == "own"


def test_ledger_entries_cannot_be_rewritten(catalog, admin):
    exported = exchange.export_catalog("powers", "xlsx", user=admin)

    def edit(wb):
        ws = wb["调整台账"]
        set_cell(ws, row_of(ws, "文号", "东府〔2020〕1号"), "文号", "东府〔2020〕99号")

    result = exchange.import_file("p.xlsx", xlsx_edit(exported.data, edit), "powers", admin)
    assert [(e["sheet"], e["column"]) for e in result.errors] == [("调整台账", "文号")]
    assert "只能追加" in result.errors[0]["message"]


def test_power_attributes_update(catalog, admin):
    exported = exchange.export_catalog("powers", "xlsx", user=admin)

    def edit(wb):
        ws = wb["权力"]
        r = row_of(ws, "权力编码", "P-SCJG-002")
        set_cell(ws, r, "实施依据", "《药品管理法》")
        set_cell(ws, r, "有效", "否")

    result = exchange.import_file("p.xlsx", xlsx_edit(exported.data, edit), "powers", admin)
    assert result.ok and result.summary["powers"]["updated"] == 1
    drug = Power.objects.get(code="P-SCJG-002")
    assert drug.basis == "《药品管理法》" and not drug.active
    assert AuditEvent.objects.filter(action="catalog.power.update", target_id=str(drug.pk)).exists()


def test_supervision_names_stay_unified(catalog, admin):
    exported = exchange.export_catalog("supervision", "xlsx", user=admin)

    def edit(wb):
        ws = wb["监管事项"]
        ws.append(
            [
                "JG-003",
                "食品经营者监督检查",
                "东莞市市场监督管理局",
                "",
                "市级",
                "",
                "",
                "",
                "",
                "是",
            ]
        )
        ws.append(
            ["JG-004", "对药品零售企业的监督检查", "D-SCJG", "", "市级", "", "", "", "P-X", "是"]
        )

    result = exchange.import_file("s.xlsx", xlsx_edit(exported.data, edit), "supervision", admin)
    assert errors_at(result) == {
        ("监管事项", 4, "监管事项名称"),
        ("监管事项", 5, "监管事项名称"),
        ("监管事项", 5, "关联行政权力编码"),
    }
    assert "JG-001" in result.errors[0]["message"]
    assert not SupervisionItem.objects.filter(code__in=["JG-003", "JG-004"]).exists()

    def near(wb):
        ws = wb["监管事项"]
        ws.append(
            ["JG-005", "食品经营者日常巡查", "D-SCJG", "", "市级", "", "", "", "P-SCJG-001", "是"]
        )

    result = exchange.import_file("s.xlsx", xlsx_edit(exported.data, near), "supervision", admin)
    assert result.ok, result.errors
    assert result.summary["supervision"]["created"] == 1
    created = SupervisionItem.objects.get(code="JG-005")
    assert created.normalized_name == supervision.normalize_name("食品经营者日常巡查")
    assert [p.code for p in created.powers.all()] == ["P-SCJG-001"]


# ------------------------------------------------------------------------------------------
# permissions and scope


def test_department_admins_cannot_import_changes_outside_their_scope(world, catalog):
    town_admin = make_catalog_admin(world, "town_catalog", department=world.town_dept)
    city_admin = world.user("catalog_admin")
    exported = exchange.export_catalog("items", "xlsx", user=city_admin)
    # Unchanged rows of other departments need no permission.
    assert exchange.import_file("x.xlsx", exported.data, "items", town_admin).changes == 0

    def edit(wb):
        ws = wb["事项"]
        set_cell(ws, row_of(ws, "实施编码", catalog["food"].code), "别名", "开饭店")

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", town_admin)
    assert [(e["sheet"], e["column"]) for e in result.errors] == [("事项", "实施主体")]
    assert "数据范围" in result.errors[0]["message"]


def test_only_catalog_admins_import(world, catalog):
    exported = exchange.export_catalog("items", "xlsx")
    for username in ("city_clerk", "citizen", "reviewer"):
        with pytest.raises(Forbidden):
            exchange.import_file("x.xlsx", exported.data, "items", world.user(username))


def test_publishing_needs_a_different_approver(catalog, admin):
    exported = exchange.export_catalog("items", "xlsx", user=admin)
    with pytest.raises(Forbidden):
        exchange.import_file(
            "x.xlsx", exported.data, "items", admin, publish=True, approved_by=admin
        )
    with pytest.raises(Forbidden):
        exchange.import_file("x.xlsx", exported.data, "items", admin, publish=True)


# ------------------------------------------------------------------------------------------
# uploads


def test_a_text_file_named_xlsx_is_refused(admin, catalog):
    lie = "实施编码,事项名称\n1,假的\n".encode()
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.create_job(kind="items", filename="catalog.xlsx", data=lie, by=admin)
    assert refused.value.status == 422
    assert "不是 Excel 工作簿" in refused.value.message
    assert not ImportJob.objects.exists()
    result = exchange.import_file("catalog.xlsx", lie, "items", admin)
    assert [(e["sheet"], e["row"]) for e in result.errors] == [("", 0)]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("catalog.csv", b"PK\x03\x04rest-of-a-zip", "不是文本"),
        ("catalog.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是文本"),
        ("catalog.xls", b"\xd0\xcf\x11\xe0", ".xlsx"),
        ("catalog.zip", b"not a zip", "不是 ZIP"),
        ("catalog.xlsx", b"PK\x03\x04broken", "损坏"),
    ],
)
def test_uploads_are_checked_by_content(admin, name, data, message):
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.create_job(kind="items", filename=name, data=data, by=admin)
    assert message in refused.value.message


def test_a_zip_that_is_not_a_workbook_is_refused(admin):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    result = exchange.import_file("catalog.xlsx", out.getvalue(), "items", admin)
    assert "不是 Excel 工作簿" in result.errors[0]["message"]


def test_oversized_and_zip_bombs_are_refused(admin, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_UPLOAD_BYTES", 1024)
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.create_job(kind="items", filename="a.csv", data=b"a" * 1025, by=admin)
    assert "过大" in refused.value.message
    monkeypatch.setattr(exchange, "MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    monkeypatch.setattr(exchange, "MAX_UNZIPPED_BYTES", 10_000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("items.csv", "0" * 1_000_000)
    assert len(out.getvalue()) < 10_000
    result = exchange.import_file("a.zip", out.getvalue(), "items", admin)
    assert "解压后过大" in result.errors[0]["message"]


def test_names_are_sanitized(admin, catalog):
    exported = exchange.export_catalog("items", "xlsx", user=admin)
    job = exchange.create_job(
        kind="items", filename="../../etc/目录\x00<1>.xlsx", data=exported.data, by=admin
    )
    assert job.original_name == "目录1.xlsx"
    assert job.file.name.startswith("catalog/imports/") and ".." not in job.file.name
    assert job.file.name.endswith(".xlsx") and "目录" not in job.file.name


def test_a_workbook_of_another_kind_says_so(catalog, admin):
    exported = exchange.export_catalog("powers", "xlsx", user=admin)
    result = exchange.import_file("p.xlsx", exported.data, "items", admin)
    messages = " ".join(e["message"] for e in result.errors)
    assert "没有“事项”工作表" in messages and "行政权力" in messages


def test_unknown_and_missing_columns(catalog, admin):
    wb = Workbook()
    ws = wb.active
    ws.title = "事项"
    ws.append(["实施编码", "事项名字", "事项名称"])
    ws.append(["X-1", "a", "b"])
    out = io.BytesIO()
    wb.save(out)
    result = exchange.import_file("x.xlsx", out.getvalue(), "items", admin)
    assert ("事项", 1, "事项名字") in errors_at(result)
    assert ("事项", 1, "事项类型") in errors_at(result)
    assert ("事项", 1, "实施主体") in errors_at(result)


# ------------------------------------------------------------------------------------------
# jobs and progress


def test_progress_counters_reach_the_total(catalog, admin):
    exported = exchange.export_catalog("items", "xlsx", user=admin)
    calls: list[tuple[str, int, int]] = []
    result = exchange.import_file(
        "x.xlsx", exported.data, "items", admin, progress=lambda *a: calls.append(a)
    )
    assert result.ok
    checking = [c for c in calls if c[0] == "checking"]
    importing = [c for c in calls if c[0] == "importing"]
    assert checking[-1][1:] == (exported.rows, exported.rows)
    assert importing[0][1] == 0 and importing[-1][1] == exported.rows
    for phase in (checking, importing):
        done = [c[1] for c in phase]
        assert done == sorted(done)

    job = exchange.create_job(kind="items", filename="x.xlsx", data=exported.data, by=admin)
    assert job.status == ImportJob.Status.PENDING
    exchange.dispatch(job)  # inline in tests
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.total_rows == job.processed_rows == exported.rows
    assert exchange.job_progress(job).percent == 100
    assert job.summary["changes"] == 0 and job.errors == []
    assert AuditEvent.objects.filter(action="catalog.import", target_id=str(job.pk)).exists()
    # A finished job does not run again.
    assert exchange.process_import(job.pk).finished_at == job.finished_at


def test_failed_job_keeps_every_error(catalog, admin):
    exported = exchange.export_catalog("items", "xlsx", user=admin)

    def edit(wb):
        ws = wb["事项"]
        for r in range(2, ws.max_row + 1):
            set_cell(ws, r, "服务对象", "外星人")

    job = exchange.create_job(
        kind="items", filename="x.xlsx", data=xlsx_edit(exported.data, edit), by=admin
    )
    exchange.process_import(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert len(job.errors) == 4
    assert {e["column"] for e in job.errors} == {"服务对象"}
    event = AuditEvent.objects.filter(action="catalog.import", target_id=str(job.pk)).get()
    assert event.data["errors"] == 4 and event.data["status"] == "failed"


# ------------------------------------------------------------------------------------------
# management commands


def test_management_commands(catalog, admin, tmp_path, capsys):
    path = tmp_path / "items.xlsx"
    call_command("catalog_export", "--kind", "items", "--format", "xlsx", "-o", str(path))
    assert path.read_bytes()[:2] == b"PK"
    call_command("catalog_import", str(path), "--kind", "items", "--user", "catalog_admin")
    assert "0 处变更" in capsys.readouterr().out

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        xlsx_edit(
            path.read_bytes(),
            lambda wb: set_cell(wb["事项"], 2, "事项类型", "不存在的类型"),
        )
    )
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("catalog_import", str(bad), "--kind", "items", "--user", "catalog_admin")
    assert "事项 第 2 行 事项类型" in capsys.readouterr().err
    with pytest.raises(CommandError):
        call_command(
            "catalog_import", str(path), "--kind", "items", "--user", "catalog_admin", "--publish"
        )


def test_materials_files_must_already_belong_to_the_item(catalog, admin):
    exported = exchange.export_catalog("items", "xlsx", user=admin)

    def edit(wb):
        ws = wb["材料"]
        set_cell(ws, 2, "空白表格", "catalog/forms/other.pdf")

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    assert [(e["sheet"], e["row"], e["column"]) for e in result.errors] == [("材料", 2, "空白表格")]
    assert Material.objects.filter(blank_form="catalog/forms/other.pdf").count() == 0
    assert ProcessStep.objects.exists()


def test_jobs_interrupted_by_a_restart_end_as_failed(admin, catalog):
    exported = exchange.export_catalog("items", "xlsx", user=admin)
    job = exchange.create_job(kind="items", filename="x.xlsx", data=exported.data, by=admin)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.IMPORTING,
        created_at=job.created_at - exchange.INTERRUPTED_AFTER - timedelta(minutes=1),
    )
    fresh = exchange.create_job(kind="items", filename="y.xlsx", data=exported.data, by=admin)
    assert list(exchange.jobs_for(admin)) == [fresh, job]
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "中断" in job.errors[0]["message"]
    assert fresh.status == ImportJob.Status.PENDING


def test_rules_judge_what_would_be_written_not_what_is_in_force(catalog, admin):
    """A published version that a newer rule would refuse does not block an unchanged
    re-import; changing that row makes the rule apply."""
    food = catalog["food"]
    ItemVersion.objects.filter(pk=food.published_version_id).update(fee_basis="")
    exported = exchange.export_catalog("items", "xlsx", user=admin)
    assert exchange.import_file("x.xlsx", exported.data, "items", admin).changes == 0

    def edit(wb):
        ws = wb["事项"]
        set_cell(ws, row_of(ws, "实施编码", food.code), "关键词", "餐饮")

    result = exchange.import_file("x.xlsx", xlsx_edit(exported.data, edit), "items", admin)
    assert [(e["sheet"], e["column"]) for e in result.errors] == [("事项", "收费依据")]
