"""The case journeys of the acceptance list, in a real browser (Playwright + Debian's chromium).

One organization (``build_world``) and two published items are set up once for the module;
everything after that is clicks and typing in the browser, by the people of the journey:

1. the enterprise finds a city item's guide, applies online (form, a PDF and a PNG through the
   file inputs, delivery, pledge), gets the receipt; "my cases" lists it;
2. the *town* clerk accepts that *city* item (acceptance scope ``any_town``, the applicant chose
   the town center): pending list → case → material preview → 受理 → the 受理通知书 PDF;
3. the city reviewer claims it, starts and submits it for approval; the approver approves and
   issues the result;
4. the enterprise sees the new status on the timeline and downloads the result and the notice;
5. a city clerk registers a second case at the window, sends a 一次性告知 and then refuses it;
   the three notices are checked as text (pypdf) and as pictures (pypdfium2, saved under
   /tmp/e2e_notices/);
6. a walk-in at the city window from the start to the hand-out: register the applicant by ID
   number, start the case, tick the paper originals, receive and accept, print; the department
   decides and issues; the clerk hands the result out.

The journeys build on each other (1 → 4 share one case), so the module runs its own live server
and keeps its database until its last test, then flushes it (a test that uses pytest-django's
``live_server`` gets ``transactional_db``, which flushes after every test); a journey whose
predecessor failed is skipped, not failed twice.
Screenshots of the key steps go to /tmp/e2e_cases/.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.catalog.factories import make_item
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import PASSWORD, RESIDENT_ID, RESIDENT_ID_2, USCC, build_world
from tongban.cases.models import Case, CaseNotice, Status

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/e2e_cases")  # noqa: S108 (where the brief wants them)
NOTICES = Path("/tmp/e2e_notices")  # noqa: S108
AXE = Axe()
REQUIRED = {"form": "both", "necessity": "required", "copies": 1}
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---- the module's world, server and browser -------------------------------------------------


@dataclass
class Journey:
    """What the journeys share: the server, the world, the items and what each journey left."""

    base: str
    world: object
    food: object  # city item, 就近办 (any_town): journeys 1–4
    device: object  # city item, accepted at the department's center: journeys 5–6
    files: Path
    case: str = ""  # the number of journey 1's case
    done: set[str] = field(default_factory=set)
    pdfs: dict[str, bytes] = field(default_factory=dict)

    def need(self, *steps: str) -> None:
        missing = [s for s in steps if s not in self.done]
        if missing:
            pytest.skip(f"needs the journey {', '.join(missing)} first")


def _calendar() -> None:
    from django.core.management import call_command

    from tongban.core.models import CalendarYear

    if not CalendarYear.objects.exists():
        call_command("import_holidays", "--from-package", verbosity=0)


def _sample_pdf() -> bytes:
    """A filled-in application form, as a PDF with Chinese text."""
    from tongban.core.pdf import render_pdf

    facts = [
        ("申请人", "示例科技有限公司"),
        ("统一社会信用代码", USCC),
        ("经营场所", "东莞市大朗镇美景中路 88 号首层"),
        ("经营项目", "餐饮服务（热食类食品制售）"),
    ]
    return render_pdf("食品经营许可申请表", [("kv", facts), ("p", "申请人签章：")])


def _sample_png() -> bytes:
    """A scanned-looking licence: a white page with a red frame and dark lines of "text"."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (420, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 411, 291), outline=(180, 20, 20), width=6)
    for i in range(6):
        draw.rectangle((40, 50 + i * 36, 380 - (i % 3) * 60, 62 + i * 36), fill=(40, 40, 40))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _close_server_connections() -> None:
    """The live server's request threads may leave PostgreSQL sessions open, which would stop
    pytest-django from dropping the test database at the end of the run."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@contextmanager
def _test_database() -> Iterator[None]:
    """The test database. pytest-django creates it only when some collected test asks for the
    database by marker or fixture; run alone, this module (whose tests ask for neither, so that
    nothing is flushed between them) creates it itself — never touching the real database."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if (
        connection.vendor != "sqlite"  # django_db_setup has created and selected it
        or connection.settings_dict["NAME"] == connection.creation._get_test_db_name()
    ):
        yield
        return
    created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        yield
    finally:
        teardown_databases(created, verbosity=0)


@pytest.fixture(scope="module")
def journey(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Journey]:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        if os.environ.get("TONGBAN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (TONGBAN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    from django.core.management import call_command
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    SHOTS.mkdir(parents=True, exist_ok=True)
    NOTICES.mkdir(parents=True, exist_ok=True)
    files = tmp_path_factory.mktemp("uploads")
    (files / "申请表.pdf").write_bytes(_sample_pdf())
    (files / "营业执照.png").write_bytes(_sample_png())
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        _test_database(),
        override_settings(
            PASSWORD_HASHERS=MD5,
            MEDIA_ROOT=str(media),
            SECURE_SSL_REDIRECT=False,
            SESSION_COOKIE_SECURE=False,
            CSRF_COOKIE_SECURE=False,
        ),
    ):
        server = None
        try:
            _calendar()
            world = build_world()
            food = make_item(
                world,
                "食品经营许可",
                scope="any_town",
                high_frequency=True,
                aliases="开饭店",
                result_name="食品经营许可证",
                materials=[
                    {**REQUIRED, "name": "申请表", "kind": "original"},
                    {**REQUIRED, "name": "营业执照", "kind": "copy"},
                ],
            )
            device = make_item(world, "第二类医疗器械经营备案", result_name="经营备案凭证")
            server = LiveServer("localhost")
            server._live_server_modified_settings.enable()
            yield Journey(server.url, world, food, device, files)
        finally:
            if server is not None:
                server._live_server_modified_settings.disable()
                server.stop()
                _close_server_connections()
            # what transactional_db does after each test: leave an empty database behind
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def chromium(journey):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@contextmanager
def signed_in(chromium, journey: Journey, identifier: str) -> Iterator[Page]:
    """A fresh browser context signed in as ``identifier`` through the login page."""
    context = chromium.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{journey.base}/accounts/login/")
        page.get_by_label("账号").fill(identifier)
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_url(re.compile(r"/workbench/$"))
        yield page
    finally:
        context.close()


def shoot(page: Page, name: str, *, audit: bool = False) -> None:
    """A full-page screenshot; ``audit``: axe-core must find nothing serious or critical."""
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if audit:
        violations = AXE.run(page).response["violations"]
        blocking = [v for v in violations if v.get("impact") in ("serious", "critical")]
        assert not blocking, [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in blocking
        ]


def fetch_pdf(page: Page, link) -> bytes:
    """Follow a PDF link (one that opens in a new tab) with the page's cookies."""
    url = urljoin(page.url, link.get_attribute("href"))
    response = page.request.get(url)
    assert response.ok, (response.status, url)
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF"), body[:40]
    return body


def flash(page: Page, text: str) -> None:
    expect(page.locator(".notice--success").first).to_contain_text(text)


def staff_status(page: Page, label: str) -> None:
    expect(page.locator(".cw-head .case-status")).to_have_text(label)


def open_panel(page: Page, key: str):
    """The step form ``key`` on the staff case page, opened if it is a closed <details>."""
    panel = page.get_by_test_id(f"panel-{key}")
    expect(panel).to_be_visible()
    if panel.evaluate("el => el.tagName") == "DETAILS" and not panel.evaluate("el => el.open"):
        panel.locator("summary").click()
    return panel


def open_case_from_list(page: Page, base: str, tab: str, number: str) -> None:
    page.goto(f"{base}/workbench/cases/?tab={tab}")
    table = page.get_by_test_id("case-table")
    expect(table).to_contain_text(number)
    table.get_by_role("link", name=number).click()
    expect(page.get_by_test_id("case-number")).to_have_text(number)


def case_of(number: str) -> Case:
    return Case.objects.get(number=number)


# ---- 1. online application ------------------------------------------------------------------


def test_1_enterprise_applies_online(chromium, journey):
    world, food = journey.world, journey.food
    with signed_in(chromium, journey, USCC) as page:
        # find the guide with an everyday phrase and start from it
        page.goto(f"{journey.base}/items/")
        page.get_by_label("我要办…").fill("开饭店")
        page.get_by_role("button", name="搜索", exact=True).click()
        page.get_by_test_id("results").get_by_role("link", name="食品经营许可").first.click()
        expect(page.get_by_test_id("guide-title")).to_have_text("食品经营许可")
        page.get_by_test_id("apply-online").click()

        # 1 填写申请表
        expect(page.locator(".ap-stepper__status")).to_have_text("第 1 步，共 4 步")
        page.get_by_label("申请内容").fill("新办食品经营许可：餐饮服务（热食类食品制售）。")
        page.get_by_label("住所或经营场所").fill("东莞市大朗镇美景中路 88 号首层")
        page.get_by_label("联系人").fill("李四")
        expect(page.get_by_label("联系手机")).to_have_value("13900139000")
        shoot(page, "01-apply-fill")
        page.get_by_test_id("save-next").click()

        # 2 提交材料: a PDF and a PNG through the file inputs
        number = page.get_by_test_id("case-number").inner_text().strip()
        journey.case = number
        expect(page.get_by_test_id("missing-materials")).to_contain_text("申请表")
        for name, file in (("申请表", "申请表.pdf"), ("营业执照", "营业执照.png")):
            chooser = page.get_by_label(f"上传文件：{name}")
            chooser.set_input_files(str(journey.files / file))
            chooser.locator("xpath=ancestor::form").get_by_role(
                "button", name="上传", exact=True
            ).click()
            flash(page, f"已上传“{file}”")
        expect(page.get_by_test_id("missing-materials")).to_have_count(0)
        materials = page.get_by_test_id("materials")
        expect(materials).to_contain_text("申请表.pdf")
        expect(materials).to_contain_text("营业执照.png")
        shoot(page, "01-apply-materials", audit=True)
        page.get_by_test_id("next").click()

        # 3 受理与送达: the town center, free post
        center = page.get_by_label("受理中心")
        center.select_option(str(world.town_center.pk))
        page.get_by_label("免费邮寄").check()
        page.get_by_label("邮寄地址").fill("广东省东莞市大朗镇美景中路 88 号 李四收")
        shoot(page, "01-apply-delivery", audit=True)
        page.get_by_test_id("save-next").click()

        # 4 确认提交
        expect(page.locator(".ap-stepper__status")).to_have_text("第 4 步，共 4 步")
        expect(page.get_by_test_id("problems")).to_have_count(0)
        main = page.locator("main")
        expect(main).to_contain_text("大朗镇政务服务中心")
        expect(main).to_contain_text("免费邮寄")
        page.get_by_test_id("submit").click()
        expect(page.locator("[data-error-summary]")).to_be_visible()  # the pledge is required
        page.get_by_label(re.compile("本人承诺所填写")).check()
        shoot(page, "01-apply-confirm", audit=True)
        page.get_by_test_id("submit").click()

        # the receipt
        expect(page.get_by_role("heading", name="申请已提交", level=1)).to_be_visible()
        expect(page.get_by_test_id("receipt-number")).to_have_text(number)
        receipt = page.get_by_test_id("receipt")
        expect(receipt).to_contain_text("网上预审中")
        expect(receipt).to_contain_text("大朗镇政务服务中心")
        shoot(page, "01-receipt", audit=True)
        page.get_by_role("link", name="我的办件", exact=True).last.click()
        cases = page.get_by_test_id("my-cases")
        expect(cases).to_contain_text(number)
        expect(cases).to_contain_text("食品经营许可")
        expect(cases).to_contain_text("网上预审中")
        shoot(page, "01-my-cases", audit=True)

    case = case_of(number)
    assert case.status == Status.PRE_REVIEW
    assert case.center == world.town_center and case.department == world.market_dept
    assert case.delivery_mode == "post" and "美景中路" in case.postal_address
    kinds = sorted(case.materials.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "image/png"]
    assert food.code == case.item.code
    journey.done.add("1")


# ---- 2. the town clerk accepts the city item --------------------------------------------------


def test_2_town_clerk_accepts_city_item(chromium, journey):
    journey.need("1")
    number = journey.case
    with signed_in(chromium, journey, "town_clerk") as page:
        page.goto(f"{journey.base}/workbench/cases/")
        expect(page.get_by_role("heading", name="待受理", level=1)).to_be_visible()
        expect(page.get_by_test_id("case-table")).to_contain_text("食品经营许可")
        shoot(page, "02-clerk-pending", audit=True)
        page.get_by_test_id("case-table").get_by_role("link", name=number).click()
        staff_status(page, "网上预审中")
        expect(page.locator(".cw-head")).to_contain_text("东莞市市场监督管理局")

        # preview the materials: the thumbnails are real PNGs rendered from the uploads
        previews = page.locator("img.cw-file__preview")
        expect(previews).to_have_count(2)
        for i in range(2):
            img = previews.nth(i)
            img.scroll_into_view_if_needed()
            loaded = "img => img.complete && img.naturalWidth > 0"
            page.wait_for_function(loaded, arg=img.element_handle())
        response = page.request.get(urljoin(page.url, previews.first.get_attribute("src")))
        assert response.ok and response.body().startswith(b"\x89PNG")
        with page.expect_popup() as popup_info, page.expect_download() as download_info:
            page.locator(".cw-file").filter(has_text="营业执照.png").get_by_role(
                "link", name="打开文件"
            ).click()
        popup_info.value.close()
        assert Path(download_info.value.path()).read_bytes().startswith(b"\x89PNG")
        shoot(page, "02-clerk-case", audit=True)

        panel = open_panel(page, "accept")
        panel.get_by_test_id("do-accept").click()
        flash(page, "已受理，请打印受理通知书")
        staff_status(page, "已受理")
        printing = page.get_by_test_id("print-notice")
        expect(printing).to_contain_text("受理通知书")
        shoot(page, "02-clerk-accepted")
        journey.pdfs["acceptance"] = fetch_pdf(page, page.get_by_test_id("print-link"))

    case = case_of(number)
    assert case.status == Status.ACCEPTED and case.accepted_by == journey.world.user("town_clerk")
    assert case.department == journey.world.market_dept and case.due_date is not None
    assert case.notices.filter(kind=CaseNotice.Kind.ACCEPTANCE).count() == 1
    journey.done.add("2")


# ---- 3. the city department decides ------------------------------------------------------------


def test_3_city_reviewer_and_approver_decide_and_issue(chromium, journey):
    journey.need("2")
    number, base = journey.case, journey.base
    with signed_in(chromium, journey, "reviewer") as page:
        page.goto(f"{base}/workbench/cases/?tab=unclaimed")
        expect(page.get_by_test_id("case-table")).to_contain_text(number)
        shoot(page, "03-reviewer-unclaimed")
        page.get_by_test_id(f"claim-{number}").click()
        flash(page, "已认领")
        expect(page.get_by_test_id("assignee")).to_have_text("reviewer")

        open_panel(page, "start_review").get_by_test_id("do-start_review").click()
        flash(page, "已开始办理")
        staff_status(page, "部门审查中")
        panel = open_panel(page, "submit_for_approval")
        panel.locator("textarea[name=opinion]").fill("材料齐全，符合许可条件，建议准予许可。")
        shoot(page, "03-reviewer-opinion")
        panel.get_by_test_id("do-submit_for_approval").click()
        flash(page, "已提交审批")
        staff_status(page, "待审批")
        # the decision is the approver's: the reviewer has no decide form
        expect(page.get_by_test_id("panel-decide")).to_have_count(0)
        expect(page.get_by_test_id("panel-submit_for_approval")).to_have_count(0)

    with signed_in(chromium, journey, "approver") as page:
        open_case_from_list(page, base, "approval", number)
        expect(page.get_by_test_id("timeline")).to_contain_text("材料齐全，符合许可条件")
        panel = open_panel(page, "decide")
        panel.get_by_label("准予许可", exact=True).check()
        shoot(page, "03-approver-decide", audit=True)
        panel.get_by_test_id("do-decide").click()
        flash(page, "已作出审批决定")
        staff_status(page, "办结（准予）")
        expect(page.get_by_test_id("print-notice")).to_contain_text("行政许可决定书")
        journey.pdfs["decision"] = fetch_pdf(page, page.get_by_test_id("print-link"))

        panel = open_panel(page, "issue_result")
        panel.get_by_label("证照有效期至（可选）").fill("2031-11-27")
        panel.get_by_test_id("do-issue_result").click()
        flash(page, "已制证出件")
        staff_status(page, "已出证")
        shoot(page, "03-approver-issued")
        journey.pdfs["result-staff"] = fetch_pdf(page, page.get_by_test_id("result-pdf"))

    case = case_of(number)
    assert case.status == Status.ISSUED
    assert case.assignee == journey.world.user("reviewer")
    assert case.decided_by == journey.world.user("approver") and case.decision == "approved"
    assert case.licence_number and case.licences.get().licence_type == "食品经营许可证"
    journey.done.add("3")


# ---- 4. the applicant sees the result ------------------------------------------------------------


def test_4_applicant_sees_status_and_downloads_result(chromium, journey):
    journey.need("3")
    number = journey.case
    licence = case_of(number).licence_number
    with signed_in(chromium, journey, USCC) as page:
        page.goto(f"{journey.base}/my/cases/")
        row = page.get_by_test_id("my-cases").get_by_role("row").filter(has_text=number)
        expect(row).to_contain_text("已出证")
        row.get_by_role("link", name="食品经营许可").click()

        expect(page.get_by_test_id("case-status")).to_have_text("已出证")
        expect(page.get_by_test_id("ask")).to_contain_text("结果已出，将免费邮寄给您")
        timeline = page.get_by_test_id("timeline")
        for step in ("提交申请", "受理", "部门开始办理", "提交审批", "准予许可", "制证出件"):
            expect(timeline).to_contain_text(step)
        expect(timeline.locator(".ap-timeline__item.is-latest")).to_contain_text("制证出件")
        expect(timeline).to_contain_text("大朗镇政务服务中心")
        result = page.get_by_test_id("result")
        expect(result).to_contain_text(licence)
        shoot(page, "04-applicant-case", audit=True)

        with page.expect_download() as download_info:
            page.get_by_test_id("result-pdf").click()
        download = download_info.value
        content = Path(download.path()).read_bytes()
        assert content.startswith(b"%PDF")
        assert download.suggested_filename == f"{licence}.pdf"
        journey.pdfs["result"] = content

        # the notice opens in the browser's PDF viewer
        with page.expect_response(re.compile(r"/notices/.+\.pdf$")) as response_info:
            page.get_by_test_id("notices").get_by_role("link", name="受理通知书").click()
        response = response_info.value
        assert response.ok and response.headers["content-type"] == "application/pdf"
        # (the viewer swaps the body of the navigation for its own page: fetch the bytes again)
        notice = page.request.get(response.url).body()
        assert notice.startswith(b"%PDF")
        journey.pdfs["acceptance-applicant"] = notice
        page.go_back()

        page.get_by_role("link", name="在证照夹中查看").click()
        expect(page.locator("main")).to_contain_text(licence)
        shoot(page, "04-applicant-licences")

    text = _text(content)
    assert licence in text and "食品经营许可证" in text
    journey.done.add("4")


# ---- 5. the notices render Chinese -------------------------------------------------------------


def _refused_at_window(chromium, journey: Journey) -> str:
    """A city clerk registers the citizen's case at the window, sends a 一次性告知 and then
    refuses it; returns the case number."""
    base, device = journey.base, journey.device
    with signed_in(chromium, journey, "city_clerk") as page:
        page.goto(f"{base}/workbench/cases/intake/")
        page.get_by_label("身份证号码或统一社会信用代码").fill(RESIDENT_ID)
        page.get_by_test_id("find").click()
        flash(page, "已找到申请人")
        expect(page.get_by_test_id("intake-applicant")).to_contain_text("张*")
        page.get_by_test_id(f"start-{device.code}").click()
        number = page.get_by_test_id("case-number").inner_text().strip()

        page.locator("#application").get_by_label("申请内容").fill("新办第二类医疗器械经营备案。")
        page.get_by_test_id("save-form").click()
        flash(page, "申请表已保存")
        open_panel(page, "receive").get_by_test_id("do-receive").click()
        flash(page, "已接件")
        staff_status(page, "已接件")

        panel = open_panel(page, "notify")
        items = panel.locator("textarea[name=items]")
        expect(items).to_contain_text("申请表（必要材料，未提供）")
        items.fill(items.input_value() + "\n经营场所的产权证明或租赁合同")
        panel.get_by_test_id("do-notify").click()
        flash(page, "已一次性告知")
        staff_status(page, "一次性告知待补齐")
        journey.pdfs["one_time"] = fetch_pdf(page, page.get_by_test_id("print-link"))
        shoot(page, "05-clerk-notified", audit=True)

        panel = open_panel(page, "refuse")
        panel.locator("textarea[name=reason]").fill(
            "申请人经营场所位于居民住宅楼内，不符合《医疗器械经营监督管理办法》的场所要求。"
        )
        panel.get_by_test_id("do-refuse").click()
        flash(page, "已作出不予受理决定")
        staff_status(page, "不予受理")
        expect(page.get_by_test_id("print-notice")).to_contain_text("不予受理决定书")
        journey.pdfs["refusal"] = fetch_pdf(page, page.get_by_test_id("print-link"))
        shoot(page, "05-clerk-refused")
    return number


def _text(content: bytes) -> str:
    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def _look_at(content: bytes, name: str) -> tuple[str, float]:
    """The PDF's text and the share of dark pixels of its first page (saved as a PNG)."""
    import pypdfium2 as pdfium

    text = _text(content)
    (NOTICES / f"{name}.pdf").write_bytes(content)
    document = pdfium.PdfDocument(content)
    try:
        image = document[0].render(scale=1.5).to_pil()
    finally:
        document.close()
    image.save(NOTICES / f"{name}.png")
    gray = image.convert("L")
    histogram = gray.histogram()
    dark = sum(histogram[:128]) / (gray.width * gray.height)
    return text, dark


def test_5_notice_pdfs_render_chinese(chromium, journey):
    journey.need("2")
    number = _refused_at_window(chromium, journey)
    case = case_of(number)
    assert case.status == Status.REFUSED
    assert set(case.notices.values_list("kind", flat=True)) == {"one_time", "refusal"}

    expected = {
        "decision": ("准予行政许可决定书", "食品经营许可", "东莞市市场监督管理局"),
        "acceptance": ("受理通知书", "食品经营许可", "大朗镇政务服务中心"),
        "one_time": ("一次性告知书", "经营场所的产权证明或租赁合同", "申请表"),
        "refusal": ("不予受理决定书", "居民住宅楼", "行政复议"),
    }
    if "decision" not in journey.pdfs:  # journey 3 did not get as far
        expected.pop("decision")
    for kind, words in expected.items():
        text, dark = _look_at(journey.pdfs[kind], kind)
        flat = re.sub(r"\s+", "", text)
        for word in words:
            assert word in flat, (kind, word, text[:400])
        # a page of black text on white: some ink, far from blank, far from a black box
        assert 0.01 < dark < 0.5, (kind, dark)
    # the applicant's copy (journey 4) reads the same as the clerk's print
    texts = [_text(journey.pdfs[k]) for k in ("acceptance", "acceptance-applicant")]
    assert texts[0] == texts[1]
    journey.done.add("5")


# ---- 6. a walk-in case at the window, from start to hand-out -------------------------------------


def test_6_walk_in_from_window_to_hand_out(chromium, journey):
    base, device = journey.base, journey.device
    with signed_in(chromium, journey, "city_clerk") as page:
        page.goto(f"{base}/workbench/cases/intake/")
        page.get_by_label("身份证号码或统一社会信用代码").fill(RESIDENT_ID_2)
        page.get_by_test_id("find").click()
        expect(page.get_by_test_id("not-found")).to_be_visible()
        walk_in = page.get_by_test_id("walk-in")
        expect(walk_in.get_by_label("居民身份证号码")).to_have_value(RESIDENT_ID_2)
        walk_in.get_by_label("姓名或单位名称").fill("王小明")
        walk_in.get_by_label("手机号码").fill("13712345678")
        shoot(page, "06-intake-register", audit=True)
        page.get_by_test_id("register").click()
        flash(page, "已登记申请人：王*")
        expect(page.get_by_test_id("intake-applicant")).to_contain_text("王*")
        page.get_by_test_id(f"start-{device.code}").click()
        flash(page, "已登记办件")
        number = page.get_by_test_id("case-number").inner_text().strip()
        staff_status(page, "草稿")

        application = page.locator("#application")
        application.get_by_label("申请内容").fill("新办第二类医疗器械经营备案（零售）。")
        application.get_by_label("窗口领取").check()
        page.get_by_test_id("save-form").click()
        flash(page, "申请表已保存")

        # the paper originals, ticked one by one in the checklist
        for name in ("申请表", "营业执照", "场地证明"):
            page.locator("#materials").get_by_role(
                "button", name=re.compile(f"纸质原件已核验\\s*：{name}")
            ).click()
            flash(page, "已登记纸质原件核验")
        expect(page.locator(".cw-mat--ok")).to_have_count(3)
        expect(page.locator("#materials")).not_to_contain_text("还缺")
        shoot(page, "06-checklist", audit=True)

        panel = open_panel(page, "receive_accept")
        panel.get_by_label("受理窗口").select_option(label="1 号窗口（综合受理1号窗）")
        panel.get_by_test_id("do-receive_accept").click()
        flash(page, "已接件并受理")
        staff_status(page, "已受理")
        notice = fetch_pdf(page, page.get_by_test_id("print-link"))
        shoot(page, "06-accepted-print")

    with signed_in(chromium, journey, "reviewer") as page:
        open_case_from_list(page, base, "unclaimed", number)
        open_panel(page, "start_review").get_by_test_id("do-start_review").click()
        flash(page, "已开始办理")
        panel = open_panel(page, "submit_for_approval")
        panel.locator("textarea[name=opinion]").fill("现场核验原件无误。")
        panel.get_by_test_id("do-submit_for_approval").click()
        staff_status(page, "待审批")

    with signed_in(chromium, journey, "approver") as page:
        open_case_from_list(page, base, "approval", number)
        panel = open_panel(page, "decide")
        panel.get_by_label("准予许可", exact=True).check()
        panel.get_by_test_id("do-decide").click()
        staff_status(page, "办结（准予）")

    with signed_in(chromium, journey, "reviewer") as page:
        open_case_from_list(page, base, "mine", number)
        open_panel(page, "issue_result").get_by_test_id("do-issue_result").click()
        flash(page, "已制证出件")
        staff_status(page, "已出证")
        # a result picked up at the window is handed out by the clerk, not by the reviewer
        expect(page.get_by_test_id("panel-hand_out")).to_have_count(0)

    with signed_in(chromium, journey, "city_clerk") as page:
        open_case_from_list(page, base, "pickup", number)
        panel = open_panel(page, "hand_out")
        expect(panel.locator("summary")).to_have_text("发放结果（窗口领取）")
        panel.locator("textarea[name=note]").fill("申请人本人持身份证领取。")
        panel.get_by_test_id("do-hand_out").click()
        flash(page, "已登记送达")
        staff_status(page, "已送达/领取")
        timeline = page.get_by_test_id("timeline")
        expect(timeline).to_contain_text("送达/发放结果")
        expect(timeline).to_contain_text("申请人本人持身份证领取。")
        shoot(page, "06-handed-out", audit=True)

    case = case_of(number)
    assert case.status == Status.DELIVERED and case.delivered_at is not None
    assert case.channel == "window" and case.applicant.name == "王小明"
    assert case.applicant.user_id is None and case.applicant.id_number == RESIDENT_ID_2
    assert case.window.name == "综合受理1号窗"
    assert set(case.materials.values_list("source", flat=True)) == {"paper"}
    assert case.licence_number and case.decided_by == journey.world.user("approver")
    assert notice.startswith(b"%PDF")
