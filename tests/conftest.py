"""Shared fixtures: a small organization world, users of every role, API clients."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import translation

from tests.factories import PASSWORD, World, build_world


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_cache(settings):
    # Argon2 is the production hasher (tests/accounts check it); MD5 keeps the suite fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test client and live server speak plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # seed_demo's year of cases is 20,000 by default; a few hundred prove the same code.
    settings.DEMO_CASES = 400
    # A page requested in English leaves its language active on the thread: start each test
    # in the platform's language.
    translation.activate(settings.LANGUAGE_CODE)
    cache.clear()
    yield
    cache.clear()
    translation.activate(settings.LANGUAGE_CODE)


DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(autouse=True)
def _calendar_table_present(request):
    """The working-day table is seeded by a data migration; a transactional test (the browser
    tests) flushes every table when it ends. Put the seed back before the next database test."""
    if not (
        DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")
    ):
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        from django.core.management import call_command

        from tongban.core.models import CalendarYear

        if not CalendarYear.objects.exists():
            call_command("import_holidays", "--from-package", verbosity=0)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def api_client(client):
    """Django's test client with JSON helpers for /api/v1/."""
    return client


def bearer(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}
