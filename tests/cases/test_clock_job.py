"""The periodic clock job: ``manage.py case_clocks`` and the Celery task
``tongban.cases.tasks.refresh_clocks`` (beat, every 15 minutes in production).

Lights move on the right dates, the yellow / red alerts go to the assignee (or, when nobody has
claimed the case, to the department's reviewers) exactly once, and paused cases stay paused.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.cases.factories import upload
from tests.cases.test_lifecycle import walk
from tests.catalog.factories import make_item
from tests.factories import assign, make_user
from tongban.cases import services, tasks
from tongban.cases.models import Case, Colour, Status
from tongban.core import audit
from tongban.core.models import AuditEvent
from tongban.notify.models import Notification
from tongban.org.roles import Role

pytestmark = pytest.mark.django_db

D = dt.date
S = Status
ROOT = Path(__file__).resolve().parents[2]

ONE_LEVEL = [
    ("accept", "受理", "window_clerk", 1),
    ("review", "审核", "reviewer", 1),
    ("decide", "审核决定", "reviewer", 1),
    ("conclude", "办结", "reviewer", 1),
    ("deliver", "送达", "window_clerk", 1),
]


def set_day(monkeypatch, day: dt.date, hour: int = 10) -> None:
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    monkeypatch.setattr(services, "now", lambda: moment)
    monkeypatch.setattr(services, "today", lambda: day)


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def accepted_on(world, monkeypatch, day: dt.date, *, promised: int = 5) -> Case:
    item = make_item(world, promised=promised, steps=ONE_LEVEL)
    case = walk(world, S.PRE_REVIEW, item=item, follow=False)
    set_day(monkeypatch, day)
    services.accept(case, world.user("city_clerk"))
    return fresh(case)


def run(day: str) -> str:
    out = StringIO()
    call_command("case_clocks", "--date", day, stdout=out)
    return out.getvalue()


def alerts(case: Case, colour: str) -> list[str]:
    return sorted(
        n.user.username
        for n in Notification.objects.filter(case=case, kind=f"case_{colour}").select_related(
            "user"
        )
    )


@pytest.fixture
def board(world, monkeypatch):
    """Four cases accepted on Mon 2 Mar 2026 (due Mon 9 Mar): one unclaimed, one claimed by
    the reviewer and handed to the approver, one in 补正 since Wed 4 Mar, one decided; and a
    second reviewer in the department."""
    second = make_user("reviewer2")
    assign(second, Role.REVIEWER, department=world.market_dept)
    world.users["reviewer2"] = second
    unclaimed = accepted_on(world, monkeypatch, D(2026, 3, 2))
    claimed = accepted_on(world, monkeypatch, D(2026, 3, 2))
    services.start_review(claimed, world.user("reviewer"))
    services.assign(claimed, world.user("reviewer"), assignee=world.user("approver"))
    paused = accepted_on(world, monkeypatch, D(2026, 3, 2))
    services.start_review(paused, world.user("reviewer"))
    set_day(monkeypatch, D(2026, 3, 4))
    services.request_supplement(paused, world.user("reviewer"), items=["补充平面图"])
    decided = accepted_on(world, monkeypatch, D(2026, 3, 2))
    services.start_review(decided, world.user("reviewer"))
    services.decide(decided, world.user("reviewer"), decision="approved")
    cases = {
        "unclaimed": fresh(unclaimed),
        "claimed": fresh(claimed),
        "paused": fresh(paused),
        "decided": fresh(decided),
    }
    assert {k: c.colour for k, c in cases.items()} == {
        "unclaimed": Colour.GREEN,
        "claimed": Colour.GREEN,
        "paused": Colour.PAUSED,
        "decided": Colour.NONE,
    }
    assert not Notification.objects.filter(kind__in=["case_yellow", "case_red"]).exists()
    return cases


def colours(cases: dict[str, Case]) -> dict[str, str]:
    return {k: fresh(c).colour for k, c in cases.items()}


def test_lights_move_on_the_right_dates_and_alert_once(board):
    unclaimed, claimed, paused = board["unclaimed"], board["claimed"], board["paused"]

    out = run("2026-03-05")  # 2 working days left: still green
    assert "2026-03-05: checked 3, changed 0 (yellow 0, red 0)" in out
    assert colours(board)["unclaimed"] == Colour.GREEN

    out = run("2026-03-06")  # 1 left: yellow
    assert colours(board) == {
        "unclaimed": Colour.YELLOW,
        "claimed": Colour.YELLOW,
        "paused": Colour.PAUSED,
        "decided": Colour.NONE,
    }
    assert f"{unclaimed.number}: green -> yellow" in out
    assert f"{claimed.number}: green -> yellow" in out
    assert paused.number not in out
    assert "changed 2 (yellow 2, red 0)" in out
    # nobody claimed it: every reviewer of the department; claimed: the assignee only
    assert alerts(unclaimed, "yellow") == ["reviewer", "reviewer2"]
    assert alerts(claimed, "yellow") == ["approver"]
    note = Notification.objects.filter(case=claimed, kind="case_yellow").get()
    assert claimed.number in note.subject and "2026-03-09" in note.body
    assert note.channel == Notification.Channel.INBOX

    out = run("2026-03-06")  # the same day again (beat runs every 15 minutes)
    assert "changed 0" in out
    out = run("2026-03-09")  # the due day: still yellow
    assert "changed 0" in out
    assert alerts(unclaimed, "yellow") == ["reviewer", "reviewer2"]
    assert alerts(claimed, "yellow") == ["approver"]

    out = run("2026-03-10")  # overdue: red
    assert colours(board)["unclaimed"] == colours(board)["claimed"] == Colour.RED
    assert f"{claimed.number}: yellow -> red" in out
    assert "changed 2 (yellow 0, red 2)" in out
    run("2026-03-11")
    run("2026-03-12")
    assert alerts(unclaimed, "red") == ["reviewer", "reviewer2"]
    assert alerts(claimed, "red") == ["approver"]
    # the paused and the decided cases were never alerted
    assert not Notification.objects.filter(
        case__in=[paused, board["decided"]], kind__in=["case_yellow", "case_red"]
    ).exists()
    assert colours(board)["paused"] == Colour.PAUSED
    assert fresh(paused).paused_since == D(2026, 3, 4)


def test_a_resumed_case_gets_its_light_back(board, monkeypatch, world):
    paused = board["paused"]
    run("2026-03-20")
    assert fresh(paused).colour == Colour.PAUSED
    set_day(monkeypatch, D(2026, 3, 6))  # (4, 6 Mar] = 2 days added: due 11 Mar
    services.add_upload(
        paused, world.user("enterprise"), material_id=None, upload=upload("补正.pdf")
    )
    services.supplement(paused, world.user("enterprise"))
    paused = fresh(paused)
    assert (paused.due_date, paused.colour) == (D(2026, 3, 11), Colour.GREEN)
    out = run("2026-03-10")
    assert f"{paused.number}: green -> yellow" in out
    assert alerts(paused, "yellow") == ["reviewer"]  # its assignee


def test_an_alert_sent_by_a_step_is_not_repeated_by_the_job(world, monkeypatch):
    case = accepted_on(world, monkeypatch, D(2026, 3, 4), promised=0)  # 即办件: due today
    assert case.colour == Colour.YELLOW
    assert alerts(case, "yellow") == ["reviewer"]
    out = run("2026-03-04")
    assert "changed 0" in out
    assert alerts(case, "yellow") == ["reviewer"]
    run("2026-03-05")
    assert fresh(case).colour == Colour.RED
    assert alerts(case, "red") == ["reviewer"]


def test_an_extension_turns_the_light_back_to_green(board, monkeypatch, world):
    claimed = board["claimed"]
    run("2026-03-06")
    set_day(monkeypatch, D(2026, 3, 6))
    services.extend(claimed, world.user("approver"), days=5, reason="专家论证")
    assert fresh(claimed).colour == Colour.GREEN  # due 16 Mar
    out = run("2026-03-10")
    assert claimed.number not in out
    out = run("2026-03-13")  # 1 left again: a new warning for the new deadline
    assert f"{claimed.number}: green -> yellow" in out
    assert alerts(claimed, "yellow") == ["approver", "approver"]


def test_the_job_is_audited_when_it_changes_something(board):
    before = AuditEvent.objects.count()
    run("2026-03-05")
    assert AuditEvent.objects.count() == before
    run("2026-03-06")
    event = AuditEvent.objects.get(action="case.clocks_refreshed")
    assert event.actor_label == "system"
    assert event.data == {"on": "2026-03-06", "changed": 2, "yellow": 2, "red": 0}
    assert audit.verify().ok


def test_command_without_a_date_uses_today(board, monkeypatch):
    set_day(monkeypatch, D(2026, 3, 10))
    out = StringIO()
    call_command("case_clocks", stdout=out)
    assert out.getvalue().rstrip().endswith("2026-03-10: checked 3, changed 2 (yellow 0, red 2)")


def test_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("case_clocks", "--date", "2026-13-01")


def test_command_help_documents_the_schedule():
    from tongban.cases.management.commands.case_clocks import Command

    text = Command.help
    for words in ("15 minutes", "tongban.cases.tasks.refresh_clocks", "REDIS_URL", "EAGER"):
        assert words in text


# --------------------------------------------------------------------------------------------
# The Celery task and its schedule


def test_the_task_runs_the_job(board):
    result = tasks.refresh_clocks.apply(args=["2026-03-06"])
    assert result.successful()
    assert result.get() == {"on": "2026-03-06", "checked": 3, "changed": 2, "yellow": 2, "red": 0}
    assert colours(board)["claimed"] == Colour.YELLOW
    again = tasks.refresh_clocks.apply(args=["2026-03-06"]).get()
    assert again["changed"] == 0
    assert alerts(board["claimed"], "yellow") == ["approver"]


def test_the_task_defaults_to_today(board, monkeypatch):
    set_day(monkeypatch, D(2026, 3, 10))
    assert tasks.refresh_clocks.apply().get()["red"] == 2


def test_the_task_is_registered_and_scheduled_every_15_minutes():
    from tongban.config import celery_app

    assert tasks.refresh_clocks.name == "tongban.cases.tasks.refresh_clocks"
    assert "tongban.cases.tasks.refresh_clocks" in celery_app.tasks
    entry = celery_app.conf.beat_schedule["case-clocks"]
    assert entry["task"] == "tongban.cases.tasks.refresh_clocks"
    assert entry["schedule"] == dt.timedelta(minutes=15)
    assert celery_app.conf.timezone == "Asia/Shanghai"


def _celery_conf(env_changes: dict[str, str | None]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CELERY_"))}
    for key, value in env_changes.items():
        if value is not None:
            env[key] = value
    code = (
        "import django; django.setup(); from tongban.config import celery_app as a; "
        "print(a.conf.broker_url); print(a.conf.task_always_eager)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "src",
        env={**env, "DJANGO_SETTINGS_MODULE": "tongban.config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_broker_is_redis_when_configured_else_tasks_run_in_process():
    assert _celery_conf({}) == ["memory://", "True"]
    assert _celery_conf({"REDIS_URL": "redis://127.0.0.1:6379/3"}) == [
        "redis://127.0.0.1:6379/3",
        "False",
    ]


def test_eager_delay_runs_in_process(board, settings):
    """With no broker (the embedded default) ``.delay()`` runs at once."""
    from tongban.config import celery_app

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        outcome = tasks.refresh_clocks.delay("2026-03-10").get()
    finally:
        celery_app.conf.task_always_eager = eager
    assert outcome["red"] == 2
