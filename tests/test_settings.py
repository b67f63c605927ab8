"""Production settings pass `check --deploy`; the development key does not; Argon2 hashes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!q2-tongban-production-secret-9f3a1c5e7b0d4a6c8e2f1b3d5a7c9e0f",
    "ALLOWED_HOSTS": "zwfw.dg.gov.example",
}


def run_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never does.
    dropped = ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = run_check(PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_the_development_key():
    result = run_check({**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "tongban.E001" in result.stdout + result.stderr


def test_passwords_are_hashed_with_argon2(settings):
    from django.conf import settings as live

    assert live.PASSWORD_HASHERS  # the autouse fixture swaps MD5 in for speed; restore here
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    assert make_password("Tongban#2026").startswith("argon2$")


def test_configured_hashers_start_with_argon2():
    source = (ROOT / "src/tongban/config/settings.py").read_text(encoding="utf-8")
    start = source.index("PASSWORD_HASHERS")
    assert "Argon2PasswordHasher" in source[start : start + 120]


@pytest.mark.parametrize("name", ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"])
def test_settings_read_the_environment(name):
    source = (ROOT / "src/tongban/config/settings.py").read_text(encoding="utf-8")
    assert f'"{name}"' in source
