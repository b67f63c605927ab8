#!/usr/bin/env python
"""Run every benchmark in bench/ (files ``bench_*.py`` with a ``run(ctx) -> dict``) and write
``bench/results/<name>.json``.

Each benchmark measures the platform beside a baseline measured in the same run and reports
the ratio, so results compare across machines. The database is a fresh SQLite file under
``var/bench/`` unless DATABASE_URL points elsewhere; the Dongguan demo world is seeded first.
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


def main(argv: list[str]) -> int:
    import django

    if "DATABASE_URL" not in os.environ:
        db = Path(os.environ["TONGBAN_DATA_DIR"]) / "tongban.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", profile="dongguan", quiet=True)

    names = argv or sorted(p.stem[len("bench_") :] for p in (ROOT / "bench").glob("bench_*.py"))
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
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
