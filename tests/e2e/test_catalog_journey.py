"""The catalog journey in a real browser: a catalog administrator edits an item (new draft,
shorter promised limit — first with a rule error, then fixed — and submits), a second
administrator approves and publishes it, and a citizen finds it with an everyday phrase, opens
its guide and its PDF. Screenshots and the PDF (also as PNG pages) go to test-artifacts/;
axe-core must find nothing serious or critical on the pages."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.catalog.factories import make_catalog_admin, make_item
from tests.e2e.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tongban.catalog.models import ItemVersion

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Axe()
BLOCKING = {"serious", "critical"}


def new_page(browser, **options) -> Page:
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(locale="zh-CN", **options)
    context.set_default_timeout(15_000)
    return context.new_page()


def shoot(page: Page, name: str, *, audit: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if audit:
        violations = AXE.run(page).response["violations"]
        blocking = [v for v in violations if v.get("impact") in BLOCKING]
        assert not blocking, [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in blocking
        ]


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/workbench/$"))


def test_edit_review_publish_then_find_and_print(browser, live_server, e2e_world):
    world = e2e_world
    base = live_server.url
    food = make_item(
        world,
        "食品经营许可",
        promised=5,
        legal=20,
        scope="any_town",
        themes=["b_food_drug"],
        life_events=["operating_permit"],
        high_frequency=True,
        conditions="申请人应当先取得营业执照，并有与经营的食品品种、数量相适应的经营场所。",
        faqs=[("网上申请后还要到窗口吗？", "全程网办，审批结果免费邮寄。")],
    )
    make_item(world, "出生登记", subject="natural", department=world.health_dept)
    make_item(world, "第一类医疗器械生产备案", item_type="21")
    make_catalog_admin(world, "catalog_admin_2")

    # 1. the first administrator starts a new version and shortens the promised limit
    page = new_page(browser)
    try:
        sign_in(page, base, "catalog_admin")
        page.goto(f"{base}/workbench/catalog/")
        expect(page.get_by_role("heading", name="事项列表", level=1)).to_be_visible()
        page.get_by_label("事项名称或编码").fill("食品经营")
        page.get_by_role("button", name="筛选").click()
        shoot(page, "catalog-workbench")
        page.get_by_test_id("wb-items").get_by_role("link", name=re.compile("^管理")).click()
        page.get_by_test_id("new-version").click()
        expect(page.get_by_role("heading", name="编辑第 2 版草稿", level=1)).to_be_visible()

        page.get_by_label("承诺办结时限（工作日）").fill("3")
        page.get_by_label("修订说明").fill("承诺时限由5个工作日压缩为3个工作日")
        page.get_by_test_id("save-submit").click()
        # five steps of one day each no longer fit into three days: a rule error, nothing lost
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_visible()
        expect(summary).to_contain_text("草稿已保存，但还不能提交审核")
        expect(page.locator("#section-steps .section-errors")).to_be_visible()
        expect(page.get_by_label("承诺办结时限（工作日）")).to_have_value("3")
        expect(page.get_by_label("修订说明")).to_have_value("承诺时限由5个工作日压缩为3个工作日")
        shoot(page, "catalog-edit-errors")

        page.locator("#id_steps-3-days").fill("0")
        page.locator("#id_steps-4-days").fill("0")
        page.get_by_test_id("save-submit").click()
        expect(page.locator(".notice--success")).to_contain_text("已提交审核")
        expect(page.get_by_test_id("four-eyes")).to_be_visible()
        expect(page.get_by_test_id("action-approve")).to_have_count(0)
        shoot(page, "catalog-version-submitted")
        page.get_by_role("button", name="退出登录").click()
    finally:
        page.context.close()

    draft = ItemVersion.objects.get(item=food, number=2)
    assert draft.state == ItemVersion.State.SUBMITTED and draft.promised_limit_days == 3

    # 2. a second administrator reviews the change, approves and publishes
    page = new_page(browser)
    try:
        sign_in(page, base, "catalog_admin_2")
        page.goto(f"{base}/workbench/catalog/review/")
        expect(page.get_by_test_id("queue-submitted")).to_contain_text("食品经营许可")
        shoot(page, "catalog-review-queue")
        page.get_by_role("link", name=re.compile("^查看并审核")).click()
        expect(page.get_by_test_id("diff")).to_contain_text("承诺办结时限（工作日）")
        shoot(page, "catalog-review-version")
        page.get_by_test_id("action-approve").click()
        expect(page.locator(".notice--success")).to_contain_text("已审核通过")
        page.get_by_test_id("action-publish").click()
        expect(page.locator(".notice--success")).to_contain_text("已发布")
        expect(page.get_by_test_id("versions")).to_contain_text("已发布")
        shoot(page, "catalog-item-published")
    finally:
        page.context.close()

    food.refresh_from_db()
    assert food.published_version.number == 2

    # 3. a citizen finds it with an everyday phrase, reads the guide and prints it
    page = new_page(browser)
    try:
        page.goto(f"{base}/items/")
        expect(page.get_by_role("heading", name="办事指南", level=1)).to_be_visible()
        shoot(page, "catalog-browse")
        page.get_by_label("我要办…").fill("开饭店")
        page.get_by_role("button", name="搜索", exact=True).click()
        results = page.get_by_test_id("results")
        expect(results).to_contain_text("“开饭店”的搜索结果")
        first = results.locator(".item-card").first
        expect(first).to_contain_text("食品经营许可")
        shoot(page, "catalog-search-results")
        first.get_by_role("link", name="食品经营许可").click()

        expect(page.get_by_test_id("guide-title")).to_have_text("食品经营许可")
        main = page.locator("main")
        expect(main).to_contain_text("3 个工作日")
        expect(main).to_contain_text("第 2 版")
        expect(main).to_contain_text(world.town_center.name)  # 就近办: the town centers too
        expect(page.get_by_test_id("apply-online")).to_be_visible()
        expect(page.get_by_test_id("book")).to_be_visible()
        shoot(page, "catalog-guide")
        page.mouse.wheel(0, 2500)  # the apply buttons stay on screen while reading
        expect(page.get_by_test_id("apply-online")).to_be_in_viewport()

        href = page.get_by_test_id("guide-pdf").get_attribute("href")
        response = page.request.get(f"{base}{href}")
        assert response.ok and response.headers["content-type"] == "application/pdf"
        content = response.body()
        pdf_path = ARTIFACTS / "catalog-guide.pdf"
        pdf_path.write_bytes(content)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
        assert "食品经营许可 办事指南" in text
        assert "3 个工作日" in text
        if shutil.which("pdftoppm"):
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    str(pdf_path),
                    str(ARTIFACTS / "catalog-guide-pdf"),
                ],
                check=True,
            )

        page.get_by_test_id("elder-toggle").click()
        expect(page.locator("body")).to_have_class(re.compile(r"\belder\b"))
        expect(page.get_by_test_id("apply-online")).to_be_visible()
        shoot(page, "catalog-guide-elder")
    finally:
        page.context.close()
