"""Load data: millions of realistic cases, fast (``manage.py seed_load --cases N``).

Built for the worklist and intake benchmarks (bench/), not for the demo (cases/demo.py writes
the demo's year through the ORM with richer detail). Every row is consistent with the rules:

* each case's status is reached through the transition table (lifecycle.py): its events are
  the table's steps from draft to that status, with their provincial codes and roles;
* centers are ones the item's acceptance scope allows (catalog/acceptance.py), the department
  the one that approves there (catalog/ledger.py) — both computed once per item;
* deadlines follow clock.py (acceptance day not counted, 即办件 same day, pauses) using an
  in-memory index of the working-day calendar (core/workdays.py) — checked against clock.py in
  the tests;
* channels: over 85 % online; applicants: a pool of natural and legal persons with valid ID
  numbers / credit codes (core/validators.py check characters).

On PostgreSQL rows go in with ``COPY … FROM STDIN`` in batches, with the secondary indexes of
the case tables dropped during the load and rebuilt once at the end (``--keep-indexes`` to
skip that); elsewhere with ``bulk_create``. Ids are reserved up front so events and materials
can point at their cases without reading anything back.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max

from tongban.accounts.models import Applicant
from tongban.catalog import acceptance, ledger
from tongban.catalog.models import ItemVersion, ServiceItem
from tongban.core import workdays
from tongban.core.errors import Conflict
from tongban.core.identifiers import ALPHABET
from tongban.core.validators import resident_id_check_char, uscc_check_char

from . import lifecycle
from .models import Case, CaseEvent, CaseMaterial, Channel, Status
from .services import has_second_level, resolve_department

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = Status

# Final status → share of cases (a year's mix seen from its last day).
STATUS_MIX: tuple[tuple[str, float], ...] = (
    (S.CLOSED, 0.60),
    (S.DELIVERED, 0.08),
    (S.ISSUED, 0.02),
    (S.APPROVED, 0.005),
    (S.DENIED, 0.02),
    (S.REFUSED, 0.02),
    (S.WITHDRAWN, 0.03),
    (S.REVOKED, 0.002),
    (S.PRE_REVIEW, 0.02),
    (S.RECEIVED, 0.01),
    (S.NOTIFIED, 0.01),
    (S.ACCEPTED, 0.04),
    (S.IN_REVIEW, 0.08),
    (S.SUPPLEMENT, 0.02),
    (S.SPECIAL, 0.005),
    (S.APPROVAL, 0.03),
    (S.DRAFT, 0.008),
)
CHANNEL_MIX = (
    (Channel.WEB, 0.55),
    (Channel.MOBILE, 0.27),
    (Channel.KIOSK, 0.05),
    (Channel.WINDOW, 0.09),
    (Channel.MAIL, 0.02),
    (Channel.AGENCY, 0.02),
)

# The actions that lead from draft to each status (two-level items; one-level items skip
# submit_for_approval). The first step is "submit" online or "receive" at a window.
_REVIEW = ("accept", "start_review")
_DECIDE = (*_REVIEW, "submit_for_approval")
PATHS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (),
    S.PRE_REVIEW: ("submit",),
    S.RECEIVED: ("submit", "pass_pre_review"),
    S.NOTIFIED: ("submit", "notify"),
    S.REFUSED: ("submit", "refuse"),
    S.WITHDRAWN: ("submit", "withdraw"),
    S.ACCEPTED: ("submit", "accept"),
    S.IN_REVIEW: ("submit", *_REVIEW),
    S.SUPPLEMENT: ("submit", *_REVIEW, "request_supplement"),
    S.SPECIAL: ("submit", *_REVIEW, "start_special"),
    S.APPROVAL: ("submit", *_DECIDE),
    S.APPROVED: ("submit", *_DECIDE, "approve"),
    S.DENIED: ("submit", *_DECIDE, "deny"),
    S.ISSUED: ("submit", *_DECIDE, "approve", "issue_result"),
    S.DELIVERED: ("submit", *_DECIDE, "approve", "issue_result", "hand_out"),
    S.CLOSED: ("submit", *_DECIDE, "approve", "issue_result", "hand_out", "close"),
    S.REVOKED: ("submit", *_DECIDE, "approve", "issue_result", "revoke"),
}
ROLE_OF = {
    lifecycle.Actor.APPLICANT: "applicant",
    lifecycle.Actor.CLERK: "window_clerk",
    lifecycle.Actor.REVIEWER: "reviewer",
    lifecycle.Actor.APPROVER: "approver",
}


def path_for(
    status: str, *, window: bool, two_levels: bool
) -> list[tuple[str, str, str, int | None, str]]:
    """(action, from, to, provincial code, role) of each step from draft to ``status``."""
    steps = []
    current = S.DRAFT
    for action in PATHS[status]:
        if action == "submit" and window:
            action = "receive"
        if action == "submit_for_approval" and not two_levels:
            continue
        if action == "pass_pre_review" and window:
            continue
        rows = lifecycle.steps_for(action, current)
        if not rows:
            raise ValueError(f"no step {action} from {current}")
        row = next(
            (r for r in rows if (lifecycle.Need.ONE_LEVEL in r.needs) != two_levels), rows[0]
        )
        actor = sorted(row.actors, key=list(lifecycle.Actor).index)[0]
        if action in ("approve", "deny") and two_levels:
            actor = lifecycle.Actor.APPROVER
        code = 2 if action == "withdraw" and "accept" not in PATHS[status] else row.code
        steps.append((action, current, row.target, code, ROLE_OF[actor]))
        current = row.target
    return steps


# --------------------------------------------------------------------------------------------
# Working days as an index (add_working_days in O(log n))


class WorkdayIndex:
    def __init__(self, first: dt.date, last: dt.date):
        self.days: list[dt.date] = []
        day = first
        while day <= last:
            if workdays.is_working_day(day):
                self.days.append(day)
            day += dt.timedelta(days=1)

    def on_or_after(self, day: dt.date) -> int:
        return bisect.bisect_left(self.days, day)

    def add(self, day: dt.date, n: int) -> dt.date:
        """= workdays.add_working_days(day, n) for n >= 0 within the index's range."""
        i = self.on_or_after(day)
        if n == 0:
            return self.days[i]
        j = bisect.bisect_right(self.days, day) + n - 1
        return self.days[j]


# --------------------------------------------------------------------------------------------
# The world the cases live in


@dataclass
class ItemPlan:
    item_id: int
    version_id: int
    title: str
    department_id: int
    limit: int
    kind: str
    two_levels: bool
    centers: list[tuple[int, int]]  # (center id, region id)
    material_ids: list[int]
    material_names: list[str]


@dataclass
class World:
    items: list[ItemPlan]
    applicant_ids: list[int] = field(default_factory=list)


def plan_items(limit: int = 400, on: dt.date | None = None) -> list[ItemPlan]:
    """Up to ``limit`` items in use with a published version that some center accepts."""
    on = on or dt.date.today()
    versions = (
        ItemVersion.objects.filter(
            state=ItemVersion.State.PUBLISHED, item__status=ServiceItem.Status.IN_USE
        )
        .select_related("item", "item__department")
        .prefetch_related("materials")
        .order_by("-item__high_frequency", "item__code")[: limit * 3]
    )
    plans: list[ItemPlan] = []
    for v in versions:
        item = v.item
        if item.published_version_id != v.pk:
            continue
        centers = list(acceptance.accepting_centers(item, on).values_list("pk", "region_id")[:60])
        if not centers:
            continue
        # the department that approves at these centers (services.resolve_department, after
        # the ledger); keep the centers of the first center's department
        by_region: dict[int, int | None] = {}
        for _center, region_id in centers:
            if region_id not in by_region:
                by_region[region_id] = _department(item, region_id, on)
        dept = by_region[centers[0][1]]
        centers = [c for c in centers if by_region[c[1]] == dept]
        if dept is None:
            continue
        mats = list(v.materials.all())
        plans.append(
            ItemPlan(
                item.pk,
                v.pk,
                v.name,
                dept,
                0 if v.case_kind == ItemVersion.CaseKind.IMMEDIATE else v.promised_limit_days,
                v.case_kind,
                has_second_level(v),
                centers,
                [m.pk for m in mats],
                [m.name for m in mats],
            )
        )
        if len(plans) >= limit:
            break
    return plans


def _department(item: ServiceItem, region_id: int, on: dt.date) -> int | None:
    """The approving department for a case of ``item`` accepted in the region, as acceptance
    decides it (None when the receiving body is not a registered department)."""
    from tongban.org.models import Region

    if item.power_id is None:
        return item.department_id
    exercise = ledger.approving_body(item, Region.objects.get(pk=region_id), on)
    try:
        return resolve_department(exercise, item).pk
    except Conflict:
        return None


def _resident_id(i: int) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(i // 999) % 20000)
    first17 = f"441900{birth:%Y%m%d}{i % 999 + 1:03d}"
    return first17 + resident_id_check_char(first17)


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc(i: int) -> str:
    body = ""
    n = i
    for _ in range(9):
        body += USCC_CHARS[n % 31]
        n //= 31
    first17 = f"91441900{body}"
    return first17 + uscc_check_char(first17)


def ensure_applicants(count: int, writer: Writer) -> list[int]:
    """A pool of load applicants (names 测试申请人…), created once and reused."""
    existing = list(
        Applicant.objects.filter(name__startswith="负载")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(existing) >= count:
        return existing[:count]
    start = len(existing)
    first_id = writer.reserve(Applicant, count - start)
    now = dt.datetime.now(dt.UTC)
    # numbers other applicants (the demo's, earlier loads') already hold are skipped
    taken = set(Applicant.objects.values_list("id_number", flat=True)) | set(
        Applicant.objects.values_list("uscc", flat=True)
    )
    serial = start
    rows = []
    for k in range(start, count):
        legal = k % 5 == 0
        number = _uscc(serial) if legal else _resident_id(serial)
        while number in taken:
            serial += 1
            number = _uscc(serial) if legal else _resident_id(serial)
        serial += 1
        rows.append(
            (
                first_id + k - start,
                "legal" if legal else "natural",
                None,
                f"负载企业{k}有限公司" if legal else f"负载{k}",
                None if legal else number,
                number if legal else None,
                "",
                "",
                f"139{k % 100000000:08d}",
                now,
            )
        )
    writer.write(Applicant, rows)
    return existing + list(range(first_id, first_id + count - start))


# --------------------------------------------------------------------------------------------
# Writers


class Writer:
    """Writes tuples in the model's concrete column order."""

    def reserve(self, model, n: int) -> int:
        raise NotImplementedError

    def write(self, model, rows: list[tuple]) -> None:
        raise NotImplementedError

    def begin(self) -> None: ...

    def finish(self) -> None: ...


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


class OrmWriter(Writer):
    """Any database: bulk_create (SQLite in tests and small loads)."""

    def reserve(self, model, n: int) -> int:
        return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def write(self, model, rows: list[tuple]) -> None:
        names = [f.attname for f in model._meta.concrete_fields]
        model.objects.bulk_create([model(**dict(zip(names, r, strict=True))) for r in rows], 2000)


class CopyWriter(Writer):
    """PostgreSQL: COPY FROM STDIN; ids reserved by moving the sequence; the secondary indexes
    and foreign keys of the big tables dropped for the load and rebuilt (and the keys
    validated) at the end."""

    BIG = (Case, CaseEvent, CaseMaterial)

    def __init__(self, *, keep_indexes: bool = False, log: Callable[[str], None] = print):
        self.keep_indexes = keep_indexes
        self.saved: list[str] = []
        self.log = log

    def reserve(self, model, n: int) -> int:
        table = model._meta.db_table
        with connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - our table
            start = cur.fetchone()[0] + 1
            cur.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, start + n - 1]
            )
        return start

    def write(self, model, rows: list[tuple]) -> None:
        table = model._meta.db_table
        cols = ", ".join(_columns(model))
        sql = f"COPY {table} ({cols}) FROM STDIN"
        with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in row]
                )

    def begin(self) -> None:
        if self.keep_indexes:
            return
        with connection.cursor() as cur:
            for model in self.BIG:
                table = model._meta.db_table
                # foreign keys first (re-added and validated at the end), then indexes
                cur.execute(
                    """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                       WHERE conrelid = %s::regclass AND contype = 'f'""",
                    [table],
                )
                for name, definition in cur.fetchall():
                    self.saved.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                cur.execute(
                    """SELECT i.indexname, i.indexdef FROM pg_indexes i
                       WHERE i.tablename = %s AND i.indexname NOT IN (
                         SELECT conname FROM pg_constraint
                         WHERE conrelid = %s::regclass AND contype IN ('p', 'u'))""",
                    [table, table],
                )
                for name, definition in cur.fetchall():
                    self.saved.insert(0, definition)
                    cur.execute(f'DROP INDEX IF EXISTS "{name}"')
        self.log(f"dropped {len(self.saved)} secondary indexes and foreign keys for the load")

    def finish(self) -> None:
        started = time.monotonic()
        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '512MB'")
            for definition in self.saved:
                cur.execute(definition)
            for model in self.BIG:
                cur.execute(f"ANALYZE {model._meta.db_table}")
        self.saved = []
        self.log(f"indexes rebuilt and tables analyzed in {time.monotonic() - started:.0f} s")


def writer_for_connection(**kw) -> Writer:
    return CopyWriter(**kw) if connection.vendor == "postgresql" else OrmWriter()


# --------------------------------------------------------------------------------------------
# Generation


def _pick(rng: random.Random, mix) -> str:
    x = rng.random()
    acc = 0.0
    for value, share in mix:
        acc += share
        if x < acc:
            return value
    return mix[-1][0]


@dataclass
class LoadResult:
    cases: int
    events: int
    materials: int
    seconds: float


ACTION_DAY = {  # working days after submission at which each step happens (typical)
    "submit": 0,
    "receive": 0,
    "pass_pre_review": 0,
    "notify": 1,
    "refuse": 1,
    "accept": 1,
    "withdraw": 2,
    "start_review": 1,
    "request_supplement": 2,
    "start_special": 2,
    "submit_for_approval": 3,
    "approve": 4,
    "deny": 4,
    "issue_result": 4,
    "hand_out": 5,
    "close": 6,
    "revoke": 30,
}


def generate(
    n: int,
    *,
    writer: Writer,
    today: dt.date,
    seed: int = 20261128,
    batch: int = 20000,
    days: int = 365,
    log: Callable[[str], None] = print,
) -> LoadResult:
    """Write ``n`` cases submitted over the ``days`` before ``today`` (see the module docstring)."""
    started = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 - reproducible load data, not secrets
    items = plan_items(on=today)
    if not items:
        raise RuntimeError("no published item with an accepting center: seed the demo first")
    index = WorkdayIndex(today - dt.timedelta(days=days + 10), today + dt.timedelta(days=800))
    with transaction.atomic():
        applicants = ensure_applicants(max(100, min(n // 5, 2_000_000)), writer)
    paths: dict[tuple[str, bool, bool], list] = {}
    first = today - dt.timedelta(days=days)
    written = events = materials = 0
    writer.begin()
    try:
        while written < n:
            size = min(batch, n - written)
            with transaction.atomic():
                case_id = writer.reserve(Case, size)
                cases, evs, mats = _batch(
                    rng, size, case_id, items, applicants, index, paths, first, days, today
                )
                ev_id = writer.reserve(CaseEvent, len(evs))
                evs = [(ev_id + k, *row) for k, row in enumerate(evs)]
                mat_id = writer.reserve(CaseMaterial, len(mats))
                mats = [(mat_id + k, *row) for k, row in enumerate(mats)]
                writer.write(Case, cases)
                writer.write(CaseEvent, evs)
                writer.write(CaseMaterial, mats)
            written += size
            events += len(evs)
            materials += len(mats)
            if written % (batch * 10) == 0 or written == n:
                rate = written / max(0.001, time.monotonic() - started)
                log(
                    f"{written:,} cases, {events:,} events, {materials:,} materials ({rate:,.0f}/s)"
                )
    finally:
        writer.finish()
    return LoadResult(written, events, materials, time.monotonic() - started)


STEP_GAP = dt.timedelta(minutes=3)
OPEN_BEFORE_DECISION = frozenset(lifecycle.BEFORE_ACCEPTANCE + lifecycle.UNDER_REVIEW)


def _number(day: dt.date, serial: int) -> str:
    # unique by construction: the serial in base 31, padded (the demo's numbers are random)
    code = ""
    for _ in range(7):
        code = ALPHABET[serial % 31] + code
        serial //= 31
    return f"LD{day:%Y%m%d}-{code}"


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(9, 0), SHANGHAI) + dt.timedelta(
        minutes=rng.randrange(0, 8 * 60)
    )
    return local.astimezone(dt.UTC)


def _batch(rng, size, first_id, items, applicants, index, paths, first, days, today):
    cases, evs, mats = [], [], []
    today_i = index.on_or_after(today)
    for k in range(size):
        cid = first_id + k
        plan = items[rng.randrange(len(items))]
        center_id, region_id = plan.centers[rng.randrange(len(plan.centers))]
        channel = _pick(rng, CHANNEL_MIX)
        window = channel in (Channel.WINDOW, Channel.MAIL)
        status = _pick(rng, STATUS_MIX)
        if status == S.APPROVAL and not plan.two_levels:
            status = S.IN_REVIEW  # no approval level: the reviewer decides
        if status == S.PRE_REVIEW and window:
            status = S.RECEIVED  # window cases are received, not pre-reviewed
        key = (status, window, plan.two_levels)
        path = paths.get(key)
        if path is None:
            path = paths[key] = path_for(status, window=window, two_levels=plan.two_levels)
        # the newer the case, the likelier it is still open: open cases within ~30 days
        if status in OPEN_BEFORE_DECISION:
            submitted = today - dt.timedelta(days=rng.randrange(0, 30))
        else:
            submitted = first + dt.timedelta(days=rng.randrange(0, days - 7))
        sub_i = index.on_or_after(submitted)
        created = _at(submitted, rng)
        accepted_on = due = accepted_at = decided_at = None
        paused_since = None
        paused_days = 0
        decision = ""
        colour = ""
        step_at = []
        previous = created
        for action, *_ in path:
            day_i = min(sub_i + ACTION_DAY[action], today_i)
            at = _at(index.days[day_i], rng) if day_i < len(index.days) else created
            previous = max(at, previous + STEP_GAP)
            step_at.append(previous)
        actions = [p[0] for p in path]
        if "accept" in actions:
            accepted_at = step_at[actions.index("accept")]
            accepted_on = index.days[index.on_or_after(accepted_at.astimezone(SHANGHAI).date())]
            if status in (S.SUPPLEMENT, S.SPECIAL):
                paused_since = step_at[-1].astimezone(SHANGHAI).date()
            due = index.add(accepted_on, plan.limit + paused_days)
        for d in ("approve", "deny"):
            if d in actions:
                decided_at = step_at[actions.index(d)]
                decision = "approved" if d == "approve" else "denied"
        if status in (S.ACCEPTED, S.IN_REVIEW, S.APPROVAL):
            if today > due:
                colour = "red"
            elif index.on_or_after(due) - index.on_or_after(today) <= 1:
                colour = "yellow"
            else:
                colour = "green"
        elif status in (S.SUPPLEMENT, S.SPECIAL):
            colour = "paused"
        issued = step_at[actions.index("issue_result")] if "issue_result" in actions else None
        handed = step_at[actions.index("hand_out")] if "hand_out" in actions else None
        closed = step_at[actions.index("close")] if "close" in actions else None
        last = step_at[-1] if step_at else created
        cases.append(
            (
                cid,
                _number(submitted, cid),
                plan.item_id,
                plan.version_id,
                applicants[rng.randrange(len(applicants))],
                None,
                channel,
                status,
                plan.title,
                {"description": "负载数据"},
                "",
                f"139{rng.randrange(10**8):08d}",
                "pickup",
                "",
                center_id,
                None,
                region_id,
                plan.department_id,
                "",
                "",
                None,
                None,
                created if path else None,
                accepted_at,
                accepted_on,
                plan.kind if accepted_at else "",
                plan.limit if accepted_at else None,
                False,
                paused_since,
                paused_days,
                0,
                "",
                due,
                False,
                colour,
                False,
                None,
                decision,
                "",
                decided_at,
                None,
                f"ZZ-LD-{cid}" if issued else "",
                issued,
                handed,
                closed,
                created,
                last,
            )
        )
        for (action, src, dst, code, role), at in zip(path, step_at, strict=True):
            evs.append((cid, action, src, dst, code, None, "", role, None, at, "", {}))
        for mid, name in zip(plan.material_ids[:3], plan.material_names[:3], strict=False):
            mats.append(
                (
                    cid,
                    mid,
                    name,
                    "paper" if window else "upload",
                    "",
                    "",
                    "",
                    0,
                    "",
                    "clean",
                    None,
                    False,
                    None,
                    created,
                    None,
                )
            )
    return cases, evs, mats


def batches(n: int, size: int) -> Iterator[int]:
    while n > 0:
        yield min(size, n)
        n -= size
