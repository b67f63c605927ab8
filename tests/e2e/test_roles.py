"""Every role signs in through the login page and sees its home page in Chinese and English, in
normal and elder-friendly mode, switching with the on-page buttons; axe-core finds no serious or
critical violation on any of them. Public pages and a 375 px phone are checked too."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.factories import PASSWORD, RESIDENT_ID, USCC
from tongban.org.roles import Role

pytestmark = pytest.mark.e2e

AXE = Axe()
BLOCKING = {"serious", "critical"}

# (world user, what they type as the identifier, role, data only their home shows)
ACCOUNTS = [
    ("citizen", RESIDENT_ID, Role.APPLICANT, "110***********002X"),
    ("enterprise", USCC, Role.APPLICANT, "9111**********341L"),
    ("town_clerk", "town_clerk", Role.WINDOW_CLERK, "大朗镇政务服务中心"),
    ("reviewer", "reviewer", Role.REVIEWER, "东莞市市场监督管理局"),
    ("approver", "approver", Role.APPROVER, "东莞市市场监督管理局"),
    ("center_admin", "center_admin", Role.CENTER_ADMIN, "东莞市民服务中心"),
    ("town_admin", "town_admin", Role.CENTER_ADMIN, "水口村党群服务中心"),
    ("agent", "agent", Role.AGENT, "东莞市民服务中心"),
    ("catalog_admin", "catalog_admin", Role.CATALOG_ADMIN, "大朗镇公共服务办公室"),
    ("supervisor", "supervisor", Role.SUPERVISOR, None),
    ("auditor", "auditor", Role.AUDITOR, "auth.login"),
]


def new_page(browser, **options) -> Page:
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(locale="zh-CN", **options)
    context.set_default_timeout(10_000)
    return context.new_page()


def audit(page: Page, name: str) -> None:
    """Screenshot the page, then assert axe-core finds nothing serious or critical."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    violations = AXE.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in blocking
    ]


def english_label(role: Role) -> str:
    with translation.override("en"):
        return str(role.label)


def expect_language(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)


def expect_elder(page: Page, on: bool) -> None:
    body = page.locator("body")
    if on:
        expect(body).to_have_class(re.compile(r"\belder\b"))
    else:
        expect(body).not_to_have_class(re.compile(r"\belder\b"))


def sign_in(page: Page, base: str, identifier: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("账号").fill(identifier)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/workbench/$"))


@pytest.mark.parametrize(
    ("key", "identifier", "role", "marker"), ACCOUNTS, ids=[a[0] for a in ACCOUNTS]
)
def test_role_home_in_both_languages_and_modes(
    browser, live_server, e2e_world, key, identifier, role, marker
):
    page = new_page(browser)
    try:
        sign_in(page, live_server.url, identifier)
        heading = page.locator("main h1")

        expect_language(page, "zh-hans")
        expect(heading).to_have_text(str(role.label))
        expect(page.locator(f'[data-role="{role.value}"]')).to_be_visible()
        if marker:
            expect(page.locator("main")).to_contain_text(marker)
        audit(page, f"role-{key}-zh")

        page.get_by_test_id("elder-toggle").click()
        expect_elder(page, True)
        expect(page.get_by_test_id("elder-toggle")).to_have_text("退出长辈版")
        audit(page, f"role-{key}-zh-elder")

        page.get_by_test_id("language-switch").click()
        expect_language(page, "en")
        expect_elder(page, True)  # the mode is remembered across the switch
        expect(heading).to_have_text(english_label(role))
        audit(page, f"role-{key}-en-elder")

        page.get_by_test_id("elder-toggle").click()
        expect_elder(page, False)
        expect_language(page, "en")
        if marker:
            expect(page.locator("main")).to_contain_text(marker)
        audit(page, f"role-{key}-en")
    finally:
        page.context.close()


def test_public_pages_anonymously(browser, live_server, e2e_world):
    page = new_page(browser)
    base = live_server.url
    try:
        page.goto(f"{base}/")
        expect(page.locator("h1")).to_contain_text("通办")
        expect(page.get_by_role("link", name="登录", exact=True).first).to_be_visible()
        audit(page, "landing-zh")

        # The center finder leads to the directory filtered by town.
        page.get_by_label("镇街").select_option(label="大朗镇")
        page.get_by_role("button", name="查找", exact=True).click()
        page.wait_for_url(re.compile(r"/org/centers/\?region=441900113"))
        expect(page.locator("main table")).to_contain_text("大朗镇政务服务中心")
        expect(page.locator("main table")).not_to_contain_text("虎门镇政务服务中心")
        audit(page, "centers-zh")

        page.get_by_role("link", name="大朗镇政务服务中心").click()
        expect(page.locator("main h1")).to_have_text("大朗镇政务服务中心")
        expect(page.locator("main")).to_contain_text("周一至周五")
        audit(page, "center-detail-zh")

        page.goto(f"{base}/org/centers/?q=nowhere")
        expect(page.locator("main")).to_contain_text("没有找到符合条件的服务中心")
        audit(page, "centers-empty-zh")

        page.goto(f"{base}/accounts/register/")
        page.get_by_role("button", name="注册", exact=True).click()
        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.locator(".error-summary")).to_be_focused()
        audit(page, "register-errors-zh")
        # Natural / legal person switch without scripts: the chosen kind's fields show.
        expect(page.get_by_label("居民身份证号码")).to_be_visible()
        page.get_by_label("法人", exact=True).check()
        expect(page.get_by_label("统一社会信用代码")).to_be_visible()
        expect(page.get_by_label("居民身份证号码")).to_be_hidden()

        page.goto(f"{base}/accounts/login/")
        page.get_by_label("账号").fill("town_clerk")
        page.get_by_label("密码", exact=True).fill("not-the-password")
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.locator(".error-summary")).to_contain_text("账号或密码错误")
        audit(page, "login-error-zh")

        page.goto(f"{base}/")
        page.get_by_test_id("language-switch").click()
        expect_language(page, "en")
        expect(page.get_by_role("link", name="Sign in", exact=True).first).to_be_visible()
        audit(page, "landing-en")
        page.get_by_test_id("elder-toggle").click()
        expect_elder(page, True)
        audit(page, "landing-en-elder")
        page.goto(f"{base}/org/centers/")
        expect_elder(page, True)
        expect_language(page, "en")
        audit(page, "centers-en-elder")
        page.goto(f"{base}/no-such-page/")
        audit(page, "not-found-en-elder")
    finally:
        page.context.close()


def test_keyboard_skip_link_and_focus(browser, live_server, e2e_world):
    page = new_page(browser)
    try:
        page.goto(f"{live_server.url}/org/centers/")
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("#main")).to_be_focused()
        page.keyboard.press("Tab")
        focused_outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert focused_outline not in ("", "none")
    finally:
        page.context.close()


PHONE = {"width": 375, "height": 812}


def assert_no_horizontal_overflow(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: page is {width}px wide on a 375px screen"


def test_phone_layout_does_not_overflow(browser, live_server, e2e_world):
    page = new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    base = live_server.url
    try:
        page.goto(f"{base}/")
        menu = page.get_by_role("button", name="菜单")
        expect(menu).to_be_visible()
        expect(page.locator("#primary-nav-list")).to_be_hidden()
        assert_no_horizontal_overflow(page, "landing")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#primary-nav-list")).to_be_visible()
        assert_no_horizontal_overflow(page, "landing-menu")

        for name, path in (
            ("centers", "/org/centers/"),
            ("center-detail", "/org/centers/SC441900/"),
            ("register", "/accounts/register/"),
        ):
            page.goto(f"{base}{path}")
            assert_no_horizontal_overflow(page, name)

        sign_in(page, base, "town_admin")
        assert_no_horizontal_overflow(page, "workbench-town-admin")
        audit(page, "phone-workbench-axe")
        page.get_by_test_id("elder-toggle").click()
        expect_elder(page, True)
        assert_no_horizontal_overflow(page, "workbench-elder")
        page.get_by_test_id("language-switch").click()
        expect_language(page, "en")
        assert_no_horizontal_overflow(page, "workbench-elder-en")
        page.goto(f"{base}/workbench/scope/")
        assert_no_horizontal_overflow(page, "my-scope-elder-en")
    finally:
        page.context.close()
