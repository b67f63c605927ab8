"""Intake throughput: window applications received and accepted through the HTTP API
(``POST /api/v1/cases/intake``) under the production server setup — gunicorn with two sync
workers, DEBUG off, on PostgreSQL — beside the very same rows written straight to PostgreSQL
with psycopg in the same run.

1. gunicorn is started as in docs/operations.md; a window clerk of 东莞市民服务中心 signs in
   (``POST /auth/token``); every department the cases go to has a connected system subscribed
   to case events, so each acceptance also writes its webhook outbox row.
2. ``CLIENTS`` keep-alive connections post batches of ``BATCH`` applications (real items the
   center accepts, the demo's applicants, every required original checked) until ``CASES``
   cases are accepted; then the same with one application per request (the rate of a single
   window, reported beside). The look-up limit per clerk is raised for the run
   (``CASE_LOOKUP_RATE``): one clerk account stands in for a whole hall.
3. Baseline: every row the API wrote for those cases (cases, materials, events, notices, audit
   events, messages, webhook outbox) is read back and inserted again with psycopg
   ``executemany`` into copies of the tables (``CREATE TABLE … (LIKE … INCLUDING ALL)``: same
   columns, indexes and constraints, no foreign keys) in transactions of the same batch size.

Reports ``ratio`` = API cases/s ÷ raw cases/s (goal ≥ 0.25), the API rate (goal ≥ 300 cases/s
on 2 cores), and (c) the peak resident memory (VmHWM) of the server workers. The cases made
are deleted afterwards (their audit events stay: the log is append-only).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from django.contrib.auth import get_user_model
from django.db import connection

from tongban.accounts.models import Applicant
from tongban.cases import services
from tongban.catalog import acceptance, ledger
from tongban.catalog.models import Material, ServiceItem
from tongban.core.errors import DomainError
from tongban.notify.models import WebhookSubscription
from tongban.org.models import Department, ServiceCenter
from tongban.org.roles import Role
from tongban.org.scopes import active_assignments

ROOT = Path(__file__).resolve().parents[1]
CASES = int(os.environ.get("BENCH_INTAKE_CASES", 20_000))
BATCH = 100
CLIENTS = 4
WORKERS = 2
SINGLE_REQUESTS = 600
CLERK, PASSWORD = "clerk_city", "Tongban#2026"
TABLES = [  # (table, how its rows hang on the bench cases)
    ("cases_case", "id = ANY(%s)"),
    ("cases_casematerial", "case_id = ANY(%s)"),
    ("cases_caseevent", "case_id = ANY(%s)"),
    ("cases_casenotice", "case_id = ANY(%s)"),
    ("notify_notification", "case_id = ANY(%s)"),
    ("notify_webhookdelivery", "case_id = ANY(%s)"),
    ("core_auditevent", "target_type = 'cases.case' AND target_id = ANY(%s::text[])"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL": "false",
        "LOG_LEVEL": "WARNING",
        "CASE_LOOKUP_RATE": "100000000/h",
        "PYTHONPATH": str(ROOT / "src"),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [str(gunicorn), "tongban.config.wsgi", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _request(conn, method: str, path: str, body=None, token: str = ""):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(server.stderr.read().decode()[-2000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def _world():
    """The clerk's center, the items it accepts today with their required materials, the
    applicants; a subscribed system for every approving department."""
    center = _clerk_center()
    day = services.today()
    items = []
    for item in (
        ServiceItem.objects.filter(published_version__isnull=False)
        .select_related("published_version", "department")
        .order_by("code")
    ):
        if len(items) >= 60:
            break
        if not acceptance.can_accept_at(item, center, day):
            continue
        try:
            services.resolve_department(ledger.approving_body(item, center.region, day), item)
        except DomainError:  # its approving body is not a registered department: not offered
            continue
        required = list(
            Material.objects.filter(
                version=item.published_version, necessity=Material.Necessity.REQUIRED
            ).values_list("pk", flat=True)
        )
        items.append((item.code, required))
    applicants = [a.identity_number for a in Applicant.objects.exclude(mobile="")[:30]]
    for department in Department.objects.all():
        WebhookSubscription.objects.get_or_create(
            department=department,
            name="bench",
            defaults={"url": "http://127.0.0.1:9/hook", "secret": secrets.token_hex(16)},
        )
    return items, applicants


def _clerk_center() -> ServiceCenter:
    clerk = get_user_model().objects.get(username=CLERK)
    return active_assignments(clerk, Role.WINDOW_CLERK).first().center


def _applications(items, applicants, start: int, n: int) -> list[dict]:
    out = []
    for k in range(start, start + n):
        code, required = items[(k * 7) % len(items)]
        out.append(
            {
                "item": code,
                "applicant_identity": applicants[k % len(applicants)],
                "form": {
                    "description": f"申请办理（压力测试 {k}）",
                    "contact_mobile": "13800138000",
                },
                "paper_checked": required,
            }
        )
    return out


def _drive(port, token, items, applicants, *, total: int, batch: int) -> tuple[float, list[str]]:
    """Post ``total`` applications in requests of ``batch`` from CLIENTS connections; the
    seconds taken and the case numbers made."""
    requests = [(i, min(batch, total - i)) for i in range(0, total, batch)]
    lock = threading.Lock()
    numbers: list[str] = []
    failures: list[str] = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not requests:
                    return
                start, n = requests.pop()
            status, body = _request(
                conn,
                "POST",
                "/api/v1/cases/intake",
                {"applications": _applications(items, applicants, start, n)},
                token,
            )
            with lock:
                if status != 201:
                    failures.append(f"{status} {str(body)[:300]}")
                else:
                    numbers.extend(c["number"] for c in body["cases"])

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} intake requests failed, first: {failures[0]}")
    return elapsed, numbers


def _peak_memory_kb(server: subprocess.Popen) -> dict[str, int]:
    """VmHWM (peak resident set) of the master and of each worker."""
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(server.pid)], capture_output=True, text=True
    )
    peaks = {}
    for pid in [server.pid, *map(int, out.stdout.split())]:
        status = Path(f"/proc/{pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        peaks["master" if pid == server.pid else f"worker {pid}"] = int(line.split()[1])
    return peaks


def _raw_baseline(case_ids: list[int], batch: int) -> dict:
    """Read back every row the API wrote for the cases and write it again with psycopg."""
    url = os.environ["DATABASE_URL"]
    chunks = [case_ids[i : i + batch] for i in range(0, len(case_ids), batch)]
    with psycopg.connect(url) as conn:
        rows: dict[str, list[list[tuple]]] = {}
        columns: dict[str, list[str]] = {}
        for table, where in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS bench_raw_{table}")
            conn.execute(f"CREATE TABLE bench_raw_{table} (LIKE {table} INCLUDING ALL)")
            rows[table] = []
            for chunk in chunks:
                ids = chunk if "::text" not in where else [str(i) for i in chunk]
                cur = conn.execute(f"SELECT * FROM {table} WHERE {where}", [ids])
                columns[table] = [d.name for d in cur.description]
                rows[table].append(cur.fetchall())
        conn.commit()
        count = sum(len(r) for chunks_ in rows.values() for r in chunks_)
        statements = {
            t: f"INSERT INTO bench_raw_{t} ({', '.join(columns[t])}) "
            f"VALUES ({', '.join(['%s'] * len(columns[t]))})"
            for t, _ in TABLES
        }
        for table, _ in TABLES:
            positions = _json_columns(conn, table)
            if positions:
                rows[table] = [[_jsonb(r, positions) for r in chunk] for chunk in rows[table]]
        started = time.perf_counter()
        for i in range(len(chunks)):
            with conn.transaction(), conn.cursor() as cur:
                for table, _ in TABLES:
                    if rows[table][i]:
                        cur.executemany(statements[table], rows[table][i])
        elapsed = time.perf_counter() - started
        for table, _ in TABLES:
            conn.execute(f"DROP TABLE bench_raw_{table}")
        conn.commit()
    return {"seconds": elapsed, "rows": count}


def _json_columns(conn, table: str) -> list[int]:
    cur = conn.execute(f"SELECT * FROM {table} LIMIT 0")
    types = {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            [table],
        )
    }
    return [i for i, d in enumerate(cur.description) if types.get(d.name) == "jsonb"]


def _jsonb(row: tuple, positions: list[int]) -> tuple:
    from psycopg.types.json import Jsonb

    row = list(row)
    for i in positions:
        row[i] = Jsonb(row[i])
    return tuple(row)


def _delete(case_ids: list[int]) -> None:
    with connection.cursor() as cur:
        for table, where in TABLES[1:-1]:
            cur.execute(f"DELETE FROM {table} WHERE {where}", [case_ids])
        cur.execute("DELETE FROM cases_case WHERE id = ANY(%s)", [case_ids])


def run() -> dict:
    if connection.vendor != "postgresql":
        return {"skipped": "needs PostgreSQL (run through bench/run.py)"}
    items, applicants = _world()
    port = _free_port()
    server = _server(port)
    try:
        _wait_until_up(port, server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, body = _request(
            conn, "POST", "/api/v1/auth/token", {"username": CLERK, "password": PASSWORD}
        )
        if status != 200:
            raise RuntimeError(f"sign-in failed: {status} {body}")
        token = body["access_token"]
        # warm both workers (imports, the items' rules) outside the measurement
        _s, warm = _drive(port, token, items, applicants, total=BATCH * 2 * WORKERS, batch=BATCH)
        batch_seconds, numbers = _drive(port, token, items, applicants, total=CASES, batch=BATCH)
        single_seconds, single_numbers = _drive(
            port, token, items, applicants, total=SINGLE_REQUESTS, batch=1
        )
        memory = _peak_memory_kb(server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    from tongban.cases.models import Case

    ids = list(Case.objects.filter(number__in=numbers).values_list("pk", flat=True))
    raw = _raw_baseline(ids, BATCH)
    made = Case.objects.filter(number__in=[*warm, *numbers, *single_numbers])
    _delete(list(made.values_list("pk", flat=True)))

    api_rate = CASES / batch_seconds
    raw_rate = CASES / raw["seconds"]
    workers = [v for k, v in memory.items() if k.startswith("worker")]
    return {
        "cases": CASES,
        "batch": BATCH,
        "clients": CLIENTS,
        "server": f"gunicorn, {WORKERS} sync workers, DEBUG off, PostgreSQL",
        "api_cases_per_s": round(api_rate, 1),
        "api_seconds": round(batch_seconds, 2),
        "raw_cases_per_s": round(raw_rate, 1),
        "raw_seconds": round(raw["seconds"], 2),
        "raw_rows": raw["rows"],
        "rows_per_case": round(raw["rows"] / CASES, 2),
        "ratio": round(api_rate / raw_rate, 3),
        "goal_ratio": 0.25,
        "goal_cases_per_s": 300,
        "single_request_cases_per_s": round(SINGLE_REQUESTS / single_seconds, 1),
        "worker_peak_rss_mb": round(max(workers) / 1024, 1),
        "master_peak_rss_mb": round(memory["master"] / 1024, 1),
        "cpu_count": os.cpu_count(),
    }
