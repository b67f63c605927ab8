"""Browser journeys: Playwright for Python driving Debian's chromium against pytest-django's
live server. One browser per module, one page per test; screenshots go to test-artifacts/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop running in the test thread; Django's ORM would
# refuse to run there without this (the live server itself runs in its own thread).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def _plain_http_live_server():
    """The live server speaks plain HTTP. Its middleware is built once when the (session-wide)
    server starts, so the per-test settings of tests/conftest.py come too late for it."""
    from django.conf import settings

    names = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    saved = {name: getattr(settings, name) for name in names}
    for name in names:
        setattr(settings, name, False)
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        if os.environ.get("TONGBAN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (TONGBAN_REQUIRE_BROWSER=1)")
        print(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def e2e_world(transactional_db):
    from tests.factories import build_world

    return build_world()
