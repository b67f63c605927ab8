"""Center directory API at the Dongguan demo size (621 centers): p95 latency of
``GET /api/v1/centers`` (filters, pagination, count, serialization, the whole Django stack)
beside the same page read with one raw SQL query through the database driver (baseline).

Reports ``p95_ratio`` = API p95 / raw SQL p95 (lower is better; it is the cost of the stack)."""

from __future__ import annotations

from django.db import connection
from django.test import Client

from bench.timing import sample, summary

QUERIES = [
    "/api/v1/centers?level=village&limit=20",
    "/api/v1/centers?level=village&limit=20&offset=400",
    "/api/v1/centers?region=441900113&limit=50",
    "/api/v1/centers?q=%E7%A4%BE%E5%8C%BA&limit=20",  # 社区
    "/api/v1/centers?level=town&limit=50",
]

RAW = """
SELECT c.code, c.name, c.level, r.code, r.name, c.address, c.phone, c.has_self_service_area,
       (SELECT COUNT(*) FROM org_window w WHERE w.center_id = c.id AND w.active)
FROM org_servicecenter c JOIN org_region r ON r.id = c.region_id
WHERE c.active AND c.level = %s
ORDER BY c.level, c.code LIMIT 20 OFFSET 0
"""


def run() -> dict:
    client = Client()
    for url in QUERIES:
        assert client.get(url).status_code == 200, url
    api_times: list[float] = []
    for url in QUERIES:
        api_times += sample(lambda url=url: client.get(url), repeat=60)

    def raw() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM org_servicecenter WHERE active AND level = %s", ["village"]
            )
            cursor.fetchone()
            cursor.execute(RAW, ["village"])
            cursor.fetchall()

    raw_times = sample(raw, repeat=300)
    api, base = summary(api_times), summary(raw_times)
    return {
        "scale": {"centers": 621},
        "api": api,
        "raw_sql_baseline": base,
        "p95_ratio": round(api["p95_ms"] / base["p95_ms"], 2),
        "queries": QUERIES,
    }
