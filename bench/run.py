#!/usr/bin/env python
"""Run every benchmark in bench/ (files ``bench_*.py`` with a ``run(ctx) -> dict``) and write
``bench/results/<name>.json``.

Each benchmark measures the platform beside a baseline measured in the same run and reports
the ratio, so results compare across machines. The database is a fresh SQLite file under
``var/bench/`` unless DATABASE_URL points elsewhere; the Dongguan demo world is seeded first.

Benchmarks that are about PostgreSQL (``POSTGRES`` below: the intake throughput under gunicorn
and the worklists at 10,000,000 cases) run in a child process on their own PostgreSQL database
(``BENCH_POSTGRES_URL``, default ``postgres://postgres@127.0.0.1:5432/tongban_bench``; the
worklist one keeps its 10,000,000 cases between runs in ``BENCH_LOAD_URL``, default
``…/tongban_load``, see bench_worklist.py); when PostgreSQL is not reachable they write a result
saying they were skipped.
Usage: ``python bench/run.py [name ...]``.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.config.settings")
os.environ.setdefault("TONGBAN_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("SECURE_SSL", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")


BENCH_POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/tongban_bench"
)
BENCH_LOAD_URL = os.environ.get("BENCH_LOAD_URL", "postgres://postgres@127.0.0.1:5432/tongban_load")
# benchmark → the PostgreSQL database it runs on (in a child process)
POSTGRES = {"intake": BENCH_POSTGRES_URL, "worklist": BENCH_LOAD_URL}


def _postgres_ready(url: str) -> str:
    """Create the benchmark database when missing; '' when ready, else why not."""
    import psycopg

    base, _, name = url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {base}: {exc}".strip()
    return ""


def _run_on_postgres(name: str, out_dir: Path) -> None:
    import subprocess

    url = POSTGRES[name]
    why = _postgres_ready(url)
    if why:
        result = {"benchmark": name, "skipped": why}
        (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"{name}: skipped ({why})")
        return
    env = {**os.environ, "DATABASE_URL": url, "BENCH_CHILD": "1"}
    subprocess.run([sys.executable, __file__, name], env=env, check=True)


def main(argv: list[str]) -> int:
    import django

    names = argv or sorted(p.stem[len("bench_") :] for p in (ROOT / "bench").glob("bench_*.py"))
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("BENCH_CHILD"):
        on_postgres = [n for n in names if n in POSTGRES]
        names = [n for n in names if n not in POSTGRES]
        for name in on_postgres:
            _run_on_postgres(name, out_dir)
        if not names:
            return 0

    if "DATABASE_URL" not in os.environ:
        db = Path(os.environ["TONGBAN_DATA_DIR"]) / "tongban.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # the PostgreSQL benchmarks bring their own cases (intake makes them, worklist loads them)
    call_command(
        "seed_demo",
        profile="dongguan",
        quiet=True,
        **({"cases": 0} if os.environ.get("BENCH_CHILD") else {}),
    )

    from django.db import connection

    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        started = time.perf_counter()
        result = module.run()
        result.update(
            {
                "benchmark": name,
                "database": connection.vendor,
                "python": platform.python_version(),
                "machine": f"{platform.machine()} x{os.cpu_count()}",
                "seconds": round(time.perf_counter() - started, 2),
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"{name}: {json.dumps({k: v for k, v in result.items() if k.endswith('ratio')})}")
        print(f"  -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
