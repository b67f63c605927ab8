"""The back office's lists at 10,000,000 cases: p95 of the reviewer worklist
(``GET /api/v1/worklist``, views open and unclaimed, first and deep pages) and of the overdue
list (``GET /api/v1/worklist/overdue`` as department systems, a center administrator and the
city supervisor), through the whole Django stack with bearer tokens, on PostgreSQL — beside
the same page read with one hand-written SQL query through psycopg (the baseline).

The cases come from ``seed_load`` (a year of realistic cases with their events and materials,
written with COPY) in a database of their own, kept between runs because making 10,000,000
cases takes most of an hour on 2 cores: ``BENCH_LOAD_URL`` (default
``postgres://postgres@127.0.0.1:5432/tongban_load``), size ``BENCH_WORKLIST_CASES`` (default
10,000,000). When it holds fewer load cases, the rest are generated first and the time is
reported (``load_seconds``).

Deep pages are reached with cursors taken at the 1,000th and 20,000th row of the list (what a
client walking the pages would hold). Reports per list p50/p95 and ``p95_ratio`` = API p95 ÷
SQL p95, the goal being an API p95 under 100 ms. For contrast it also times a few requests of
the offset-paginated ``GET /api/v1/cases?order=due`` (which counts its rows) for one department.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time

import psycopg
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench.timing import sample, summary
from tongban.api import keyset
from tongban.cases import services
from tongban.cases.models import OPEN_STATUSES, Case
from tongban.notify import systems
from tongban.org.models import Department

TARGET = int(os.environ.get("BENCH_WORKLIST_CASES", 10_000_000))
GOAL_P95_MS = 100.0
FIRST_DAY = dt.date(1900, 1, 1)  # before any deadline: the raw first page
REPEAT = 120
DEPARTMENTS = 6
SUPERVISOR, CENTER_ADMIN = "supervisor", "admin_city"

OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
RAW_WORKLIST = f"""
SELECT c.id, c.number, c.title, c.status, c.channel, c.due_date, c.contact_mobile, a.name,
       ce.code, d.code, i.code
FROM cases_case c JOIN accounts_applicant a ON a.id = c.applicant_id
JOIN org_servicecenter ce ON ce.id = c.center_id JOIN org_department d ON d.id = c.department_id
JOIN catalog_serviceitem i ON i.id = c.item_id
WHERE c.department_id = %s AND c.status IN ({OPEN_SQL}) AND c.due_date >= %s
  AND (c.due_date, c.id) > (%s, %s)
ORDER BY c.due_date, c.id LIMIT 21
"""
RAW_OVERDUE = RAW_WORKLIST.replace(
    "AND c.due_date >= %s",
    "AND c.status IN ('accepted','in_review','approval') AND c.due_date < %s",
)


def _load_cases() -> tuple[int, float | None]:
    existing = Case.objects.filter(number__startswith="LD").count()
    if existing >= TARGET:
        return existing, None
    started = time.perf_counter()
    call_command("seed_load", cases=TARGET - existing, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return Case.objects.filter(number__startswith="LD").count(), time.perf_counter() - started


def _departments() -> list[tuple[Department, int]]:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT department_id, COUNT(*) FROM cases_case WHERE status IN ({OPEN_SQL}) "
            "GROUP BY department_id ORDER BY 2 DESC"
        )
        counted = cur.fetchall()
    # the largest departments, and some from the middle of the distribution
    picks = counted[: DEPARTMENTS // 2] + counted[len(counted) // 2 :][: DEPARTMENTS // 2]
    by_id = Department.objects.in_bulk([d for d, _ in picks])
    return [(by_id[d], n) for d, n in picks]


def _token(client: Client, department: Department) -> dict[str, str]:
    connected = systems.connect(department, name=f"{department.name}业务系统（压测）")
    return {"HTTP_AUTHORIZATION": f"Bearer {connected.token}"}


def _person_token(client: Client, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": "Tongban#2026"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


def _cursor_at(department_id: int | None, position: int, overdue: bool) -> str | None:
    today = services.today()
    where = f"status IN ({OPEN_SQL})"
    params: list = []
    if department_id is not None:
        where += " AND department_id = %s"
        params.append(department_id)
    if overdue:
        where += " AND status IN ('accepted','in_review','approval') AND due_date < %s"
        params.append(today)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT due_date, id FROM cases_case WHERE {where} AND due_date IS NOT NULL "
            "ORDER BY due_date, id OFFSET %s LIMIT 1",
            [*params, position],
        )
        row = cur.fetchone()
    return keyset.encode(*row) if row else None


def run() -> dict:
    if connection.vendor != "postgresql":
        return {"skipped": "needs PostgreSQL (run through bench/run.py)"}
    total, load_seconds = _load_cases()
    with connection.cursor() as cur:
        cur.execute("ANALYZE cases_case")
    client = Client()
    today = services.today()
    departments = _departments()
    requests: dict[str, list[tuple[str, dict]]] = {"worklist": [], "overdue": []}
    raw: dict[str, list[tuple[str, list]]] = {"worklist": [], "overdue": []}
    for department, _open in departments:
        auth = _token(client, department)
        for view in ("open", "unclaimed"):
            for position in (0, 1_000, 20_000):
                cursor = _cursor_at(department.pk, position, False) if position else None
                if position and cursor is None:
                    continue
                url = f"/api/v1/worklist?view={view}&limit=20" + (
                    f"&cursor={cursor}" if cursor else ""
                )
                requests["worklist"].append((url, auth))
                day, pk = keyset.decode(cursor) if cursor else (FIRST_DAY, 0)
                raw["worklist"].append((RAW_WORKLIST, [department.pk, day, day, pk]))
        for position in (0, 1_000):
            cursor = _cursor_at(department.pk, position, True) if position else None
            if position and cursor is None:
                continue
            url = "/api/v1/worklist/overdue?limit=20" + (f"&cursor={cursor}" if cursor else "")
            requests["overdue"].append((url, auth))
            day, pk = keyset.decode(cursor) if cursor else (FIRST_DAY, 0)
            raw["overdue"].append((RAW_OVERDUE, [department.pk, today, day, pk]))
    User = get_user_model()
    for username in (SUPERVISOR, CENTER_ADMIN):
        if User.objects.filter(username=username).exists():
            auth = _person_token(client, username)
            requests["overdue"].append(("/api/v1/worklist/overdue?limit=20", auth))

    rng = random.Random(5)  # a reproducible request mix
    results: dict = {}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        for name in ("worklist", "overdue"):
            mix = requests[name]

            def api_call(mix=mix):
                url, auth = rng.choice(mix)
                response = client.get(url, **auth)
                assert response.status_code == 200, (url, response.content[:300])

            raws = raw[name]

            def raw_call(raws=raws):
                sql, params = rng.choice(raws)
                conn.execute(sql, params).fetchall()

            api = summary(sample(api_call, repeat=REPEAT, warmup=len(mix)))
            base = summary(sample(raw_call, repeat=REPEAT, warmup=len(raws)))
            results[name] = {
                "api": api,
                "sql": base,
                "p95_ratio": round(api["p95_ms"] / max(base["p95_ms"], 0.001), 2),
                "requests_in_mix": len(mix),
            }
    big = departments[0][0]
    auth = _token(client, big)

    def offset_call():
        client.get(f"/api/v1/cases?order=due&department={big.code}&limit=20", **auth)

    offset = summary(sample(offset_call, repeat=5, warmup=1))
    return {
        "cases": total,
        "load_seconds": round(load_seconds, 1) if load_seconds is not None else None,
        "open_cases_by_department": {d.code: n for d, n in departments},
        "reviewer_worklist": results["worklist"],
        "overdue_list": results["overdue"],
        "worklist_p95_ratio": results["worklist"]["p95_ratio"],
        "overdue_p95_ratio": results["overdue"]["p95_ratio"],
        "goal_p95_ms": GOAL_P95_MS,
        "offset_list_with_count_largest_department": offset,
    }
