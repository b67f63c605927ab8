"""The Dongguan demo's year of cases (演示办件), built by ``manage.py seed_demo`` after the
organization (:mod:`tongban.org.demo`) and the catalog (:mod:`tongban.catalog.demo`).

What it writes: a recent year of cases — the 362 days up to yesterday (2025-12-01 … 2026-11-27
when run on 2026-11-28) — across channels (over 85 % online: web, mobile, kiosk), centers and
items, in every status of :class:`~tongban.cases.models.Status`: most finished (closed or
delivered), a realistic share refused, denied, withdrawn or revoked, the rest in flight in every
running status, some of them overdue (red) or about to be (yellow) as of today.

How: each case is *simulated* forward from its filing through the transition table
(``lifecycle.TRANSITIONS``) — intake, 一次性告知, acceptance, review, 补正, 特别程序, approval,
decision, result, delivery, archive — each step at a plausible moment (staff steps on working
days in working hours, Asia/Shanghai; the applicant's online steps any day 7:30–23:00) by a
plausible actor (the demo staff of that center or department when there are some, otherwise
a label such as “东莞市民服务中心综合窗口”); a step that would fall after the end of yesterday
has not happened yet, so recent cases are naturally in flight. The fields the services would
set are computed the same way: ``clock.start`` / ``pause`` / ``resume`` / ``extend`` /
``colour`` (colour as of today), the approving department through
``catalog.ledger.approving_body`` and ``services.resolve_department`` (cached per item and
region; asked only where a ledger entry of the item's power covers the region — elsewhere its
answer is the item's department), accepting centers from
``catalog.acceptance.accepting_centers`` (the intersection over every acceptance rule in force
during the year; asked once per department, scope and high-frequency flag, the only inputs of
its answer). The services themselves are not called (one case through them costs dozens of
queries and an audit event per step): rows are built in memory as tuples and inserted in
chunks with ``executemany`` (:class:`_Table`: bulk_create's work without model instances,
values adapted by the backend) — Case, CaseEvent, CaseMaterial (metadata; the online uploads
share one small PDF), CaseNotice, registry.Licence for every issued result and a modest number
of notify.Notification rows (the status messages of the demo applicants' cases, the clock
alerts of the red/yellow cases to the demo staff). Per-upload ``add_material`` events, audit
events per case and webhook deliveries are not written; one summary audit event
``demo.cases_seeded`` is.

Size and time: ``DEFAULT_SIZE`` = 20,000 random cases (about 20,300 with the showcases;
~170,000 events, 85,000 material records, 41,000 notices, 18,500 licences) take about 17 s on
the 2-core development machine with SQLite, about half of it in SQLite's own inserts.

Showcase cases come on top of the random year: every demo applicant with a login (citizen,
citizen02 …, enterprise …) owns a few cases — one waiting on a 一次性告知, one in 补正, one
issued for pickup at the window (its licence in the wallet), one closed with its licence, and
two more in other statuses; every demo clerk has applications waiting at their center; every
demo reviewer's department has unclaimed, in-review, red and yellow cases (and cases waiting
for its approver when it has two-level items).

Applicants: the demo applicants above plus a pool of made-up natural and legal persons with
valid ID numbers / credit codes and accounts without a usable password (``demo_person_*``,
``demo_company_*``), since online cases are filed by the applicant's own account.

Deterministic (one seeded random generator; the same day gives the same year) and idempotent:
the seed runs in one transaction that ends with the ``demo.cases_seeded`` audit event, and a
run that finds that event adds nothing. ``size`` is the number of random cases (tests use a
small one); ``DEFAULT_SIZE`` fits ``make demo``'s time budget (see ``seed_demo``).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts.models import Applicant
from tongban.catalog import acceptance, ledger
from tongban.catalog import demo as catalog_demo
from tongban.catalog.models import (
    AcceptanceRule,
    ItemVersion,
    LedgerEntry,
    Material,
    ProcessStep,
    ServiceItem,
)
from tongban.core import audit, workdays
from tongban.core.identifiers import ALPHABET
from tongban.core.models import AuditEvent
from tongban.core.validators import resident_id_check_char, uscc_check_char
from tongban.notify.models import Notification
from tongban.org import demo as org_demo
from tongban.org.models import Department, Region, ServiceCenter, StaffAssignment, Window
from tongban.org.roles import Role
from tongban.registry.models import Licence

from . import clock, lifecycle
from .models import (
    Case,
    CaseEvent,
    CaseMaterial,
    CaseNotice,
    Channel,
    Decision,
    DeliveryMode,
    Status,
)
from .services import NOTICE_PREFIX, SPECIAL_KINDS, resolve_department

S = Status
SEED = 20261127
DEFAULT_SIZE = 20_000
YEAR_DAYS = 362  # 2025-12-01 … 2026-11-27 seen from 2026-11-28
MARKER = "demo.cases_seeded"
LOCAL = ZoneInfo("Asia/Shanghai")
CHUNK = 3000
PERSON_PREFIX = "demo_person_"
COMPANY_PREFIX = "demo_company_"
UNUSABLE_PASSWORD = "!tongban-demo-applicant-no-login"  # noqa: S105 — marks no login at all
SHARED_FILE = "cases/demo/demo-material.pdf"
SHARED_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 53>>stream\nBT /F1 18 Tf 72 760 Td (Tongban demo material) Tj ET\n"
    b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
SHARED_SHA256 = hashlib.sha256(SHARED_PDF).hexdigest()

# Working hours of the staff (minutes after midnight, local time).
SLOTS = ((9 * 60, 12 * 60), (14 * 60, 17 * 60 + 30))

DEMO_REVIEW_DEPARTMENTS = (*org_demo.REVIEW_DEPARTMENTS, "D-113-GGFW")

REFUSE_REASONS = (
    "申请事项依法不属于本机关职权范围，请向有关行政机关申请",
    "申请人不具备申请该事项的主体资格",
    "申请事项依法不需要取得行政许可",
    "申请材料存在实质性缺陷且无法补正",
)
DENY_REASONS = (
    "经现场核查，经营场所不符合规定条件",
    "申请人不符合法定条件",
    "专家评审结论为不通过",
    "申请材料反映的情况与实际不符",
)
NOTIFY_EXTRA = (
    "申请表第三栏填写不完整，请补充填写",
    "身份证明复印件不清晰，请重新提供",
    "申请表须加盖单位公章",
    "申请表须由申请人本人签名",
)
SUPPLEMENT_ITEMS = (
    "补充提交{m}的清晰扫描件",
    "补充说明经营场所的产权或使用权情况",
    "补充提交场地平面示意图",
    "补充提交主要设备清单",
    "{m}与登记信息不一致，请更正后重新提交",
)
SPECIAL_REASONS = {
    "inspection": "需进行现场核查",
    "expert_review": "需组织专家评审",
    "testing": "需进行检验检测",
    "hearing": "申请人依法申请听证",
    "appraisal": "需进行技术鉴定",
}
WITHDRAW_NOTES = ("申请人主动撤回申请", "经营计划调整，不再办理", "重复提交，撤回本件", "")
RETURN_REASONS = ("审核意见不完整，请补充现场核查情况", "请核实申请人提交的场地证明")
EXTEND_REASON = "情况复杂，经本机关负责人批准延长办理时限"
APPROVE_NOTES = ("符合法定条件，准予许可", "材料齐全，符合法定形式，准予办理", "")
ROADS = ("东城路", "莞太路", "鸿福路", "宏伟路", "环城路", "松山湖大道", "东莞大道", "振兴路")


class CasesSeedError(RuntimeError):
    pass


@dataclass
class CasesSeedResult:
    profile: str
    size: int
    skipped: bool = False
    created: Counter = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    channels: Counter = field(default_factory=Counter)
    colours: Counter = field(default_factory=Counter)
    # (username, [(number, status, contact mobile), ...]) of the demo applicants
    applicants: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    # staff username -> cases waiting for them (clerk: intake and pickups at their center;
    # reviewer: accepted and in review in their department; approver: waiting for approval)
    waiting: dict[str, int] = field(default_factory=dict)
    # (number, mobile, status) for the public progress query
    progress_examples: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def online_share(self) -> float:
        total = sum(self.channels.values())
        online = sum(self.channels[c] for c in (Channel.WEB, Channel.MOBILE, Channel.KIOSK))
        return online / total if total else 0.0


# --------------------------------------------------------------------------------------------
# Entry point


def seed(
    profile: str = "dongguan", *, size: int = DEFAULT_SIZE, today: date | None = None
) -> CasesSeedResult:
    """Build the demo's year of cases (``size`` random cases plus the showcase ones) unless it
    was built already. ``today`` defaults to the local date."""
    if profile not in catalog_demo.PROFILES:
        raise CasesSeedError(_("未知的演示数据配置：%(p)s。") % {"p": profile})
    result = CasesSeedResult(profile=profile, size=size)
    started = time.perf_counter()
    today = today or timezone.localdate()
    if AuditEvent.objects.filter(action=MARKER, target_id=profile).exists():
        result.skipped = True
        _report(result)
        result.seconds["total"] = time.perf_counter() - started
        return result
    with transaction.atomic():
        builder = _Builder(today=today, size=size, result=result)
        builder.load()
        result.seconds["load"] = time.perf_counter() - started
        builder.run()
        audit.record(
            MARKER,
            actor_label="seed_demo",
            target_type="cases.case",
            target_id=profile,
            data={
                "created": dict(result.created),
                "from": builder.first_day.isoformat(),
                "to": builder.last_day.isoformat(),
                "seed": SEED,
            },
        )
    _report(result)
    result.seconds["total"] = time.perf_counter() - started
    return result


def _report(result: CasesSeedResult) -> None:
    """Counts, the demo applicants' cases and the staff's waiting work, from the database."""
    rows = Case.objects.values_list("status", "channel", "colour")
    for status, channel, colour in rows:
        result.statuses[status] += 1
        result.channels[channel] += 1
        if colour:
            result.colours[colour] += 1
    usernames = list(_demo_applicant_usernames())
    for username, number, status, mobile in (
        Case.objects.filter(applicant__user__username__in=usernames)
        .order_by("applicant__user__username", "created_at")
        .values_list("applicant__user__username", "number", "status", "contact_mobile")
    ):
        result.applicants.setdefault(username, []).append((number, status, mobile))
    for username, wanted in (("citizen", S.SUPPLEMENT), ("enterprise", S.ISSUED)):
        for number, status, mobile in result.applicants.get(username, []):
            if status == wanted and mobile:
                result.progress_examples.append((number, mobile, status))
                break
    result.waiting = _waiting_work()


def _demo_applicant_usernames() -> list[str]:
    citizens = [f"citizen{i:02d}" for i in range(2, 21)]
    enterprises = [f"enterprise{i:02d}" for i in range(2, 11)]
    return ["citizen", *citizens, "enterprise", *enterprises]


def _waiting_work() -> dict[str, int]:
    """Cases waiting for each staff account with a center or department scope: a clerk's
    intake (pre-review, received) and window pickups; a reviewer's accepted and in-review
    cases; an approver's cases waiting for approval."""
    from django.db.models import Count, Q

    intake = Q(status__in=(S.PRE_REVIEW, S.RECEIVED)) | Q(
        status=S.ISSUED, delivery_mode=DeliveryMode.PICKUP
    )
    by_center = dict(Case.objects.filter(intake).values_list("center_id").annotate(n=Count("pk")))
    review = dict(
        Case.objects.filter(status__in=(S.ACCEPTED, S.IN_REVIEW))
        .values_list("department_id")
        .annotate(n=Count("pk"))
    )
    approval = dict(
        Case.objects.filter(status=S.APPROVAL).values_list("department_id").annotate(n=Count("pk"))
    )
    out: dict[str, int] = {}
    for a in StaffAssignment.objects.filter(
        active=True, role__in=[Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER]
    ).select_related("user"):
        if a.role == Role.WINDOW_CLERK:
            n = by_center.get(a.center_id, 0) if a.center_id else 0
        elif a.role == Role.REVIEWER:
            n = review.get(a.department_id, 0) if a.department_id else 0
        else:
            n = approval.get(a.department_id, 0) if a.department_id else 0
        if n:
            out[a.user.username] = out.get(a.user.username, 0) + n
    return out


# --------------------------------------------------------------------------------------------
# The world the cases are built on


@dataclass
class _Item:
    item: ServiceItem
    version: ItemVersion
    department: Department
    required: list[tuple[int, str]]
    tolerated: list[tuple[int, str]]
    two_levels: bool
    centers: list[int] = field(default_factory=list)
    center_weights: list[float] = field(default_factory=list)

    @property
    def online(self) -> bool:
        v = self.version
        return v.handled_online and v.online_depth >= ItemVersion.OnlineDepth.PRE_REVIEW

    @property
    def immediate(self) -> bool:
        return self.version.case_kind == ItemVersion.CaseKind.IMMEDIATE


@dataclass(frozen=True)
class _Who:
    """An actor of a step: a demo account, or a label only."""

    user_id: int | None
    label: str
    role: str


@dataclass
class _Person:
    applicant_id: int
    user_id: int | None
    kind: str
    name: str
    mobile: str
    label: str  # what str(user) gives


@dataclass
class _Fate:
    """The choices that decide a case's path (drawn at random, or forced for showcases)."""

    draft: bool = False
    intake: str = "pass"  # pass | notify | refuse | withdraw
    after_notify: str = "resubmit"  # resubmit | withdraw | refuse | wait
    tolerated_missing: bool = False
    tolerated_when: str = "review"  # review | after | never
    supplement: str = ""  # "" | back | withdraw | wait
    special: bool = False
    extend: bool = False
    withdraw_review: bool = False
    return_review: bool = False
    deny: bool = False
    pace: str = "normal"  # normal | late | stuck | stuck_start | pinned (showcase)
    fraction: float = 0.6
    revoke: bool = False
    delivery: str = DeliveryMode.PICKUP
    stop_at: str | None = None


class _Stop(Exception):
    """The next step lies after the end of the year (or the showcase's status is reached)."""


class _Builder:
    def __init__(self, *, today: date, size: int, result: CasesSeedResult) -> None:
        self.today = today
        self.size = size
        self.result = result
        self.rng = random.Random(f"{SEED}-{today.isoformat()}")  # noqa: S311 — demo data
        self.last_day = today - timedelta(days=1)
        self.first_day = self.last_day - timedelta(days=YEAR_DAYS - 1)
        self.cutoff = datetime.combine(today, datetime.min.time(), LOCAL)
        self.start = datetime.combine(self.first_day, datetime.min.time(), LOCAL)
        self.used_numbers: set[str] = set()
        self.approval_cache: dict[tuple, tuple[ledger.Exercise, Department]] = {}

    # --- loading ------------------------------------------------------------------------------

    def load(self) -> None:
        started = time.perf_counter()
        self.centers = {
            c.pk: c for c in ServiceCenter.objects.filter(active=True).select_related("region")
        }
        if not self.centers:
            raise CasesSeedError(_("请先生成组织机构演示数据。"))
        self.windows: dict[int, list[int]] = defaultdict(list)
        for center_id, pk in Window.objects.filter(
            kind=Window.Kind.COMPREHENSIVE, active=True
        ).values_list("center_id", "pk"):
            self.windows[center_id].append(pk)
        self._load_staff()
        self._load_items()
        self._load_people()
        self.used_numbers |= set(Case.objects.values_list("number", flat=True))
        self.used_numbers |= set(CaseNotice.objects.values_list("number", flat=True))
        self.used_numbers |= set(Licence.objects.values_list("number", flat=True))
        days = [self.first_day + timedelta(days=i) for i in range(YEAR_DAYS)]
        self.all_days = days
        weights = []
        for i, d in enumerate(days):
            growth = 0.9 + 0.2 * i / YEAR_DAYS
            weights.append(growth * (1.0 if workdays.is_working_day(d) else 0.3))
        self.all_cum = _cumulative(weights)
        self.work_days = [d for d in days if workdays.is_working_day(d)]
        self.work_cum = _cumulative(
            [0.9 + 0.2 * (d - self.first_day).days / YEAR_DAYS for d in self.work_days]
        )
        self.result.seconds["load_world"] = time.perf_counter() - started

    def _load_staff(self) -> None:
        self.clerks: dict[int, list[_Who]] = defaultdict(list)
        self.reviewers: dict[int, list[_Who]] = defaultdict(list)
        self.approvers: dict[int, list[_Who]] = defaultdict(list)
        self.agents: list[tuple[_Who, object]] = []  # (who, assignment) — center or region
        region_clerks: list[tuple[str, _Who]] = []
        region_reviewers: list[tuple[str, str, _Who]] = []
        for a in (
            StaffAssignment.objects.filter(
                active=True,
                user__is_active=True,
                role__in=[Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER, Role.AGENT],
            )
            .select_related("user", "region")
            .order_by("user__username", "pk")
        ):
            who = _Who(a.user_id, str(a.user)[:150], "")
            if a.role == Role.WINDOW_CLERK:
                who = _Who(who.user_id, who.label, Role.WINDOW_CLERK.value)
                if a.center_id:
                    self.clerks[a.center_id].append(who)
                elif a.region_id:
                    region_clerks.append((a.region.path, who))
            elif a.role in (Role.REVIEWER, Role.APPROVER):
                who = _Who(who.user_id, who.label, str(a.role))
                target = self.reviewers if a.role == Role.REVIEWER else self.approvers
                if a.department_id:
                    target[a.department_id].append(who)
                elif a.region_id:
                    region_reviewers.append((a.region.path, str(a.role), who))
            elif a.role == Role.AGENT:
                self.agents.append((_Who(a.user_id, who.label, Role.APPLICANT.value), a))
        for center in self.centers.values():
            for path, who in region_clerks:
                if center.region.path.startswith(path):
                    self.clerks[center.pk].append(who)
        self.region_reviewers = region_reviewers
        self.agent_centers: dict[int, list[_Who]] = defaultdict(list)
        for who, a in self.agents:
            for center in self.centers.values():
                if a.center_id == center.pk or (
                    a.region_id and center.region.path.startswith(a.region.path)
                ):
                    self.agent_centers[center.pk].append(who)

    def _load_items(self) -> None:
        rng = self.rng
        qs = (
            catalog_demo.entries()
            .select_related("published_version", "department__region")
            .order_by("code")
        )
        every = list(qs)
        if not every:
            raise CasesSeedError(_("请先生成演示事项目录。"))
        demo_departments = set(DEMO_REVIEW_DEPARTMENTS)
        high = [i for i in every if i.high_frequency]
        by_department: dict[str, list[ServiceItem]] = defaultdict(list)
        for i in every:
            by_department[i.department.code].append(i)
        chosen: dict[int, ServiceItem] = {i.pk: i for i in high}
        for code in DEMO_REVIEW_DEPARTMENTS:
            pool = by_department.get(code, [])
            for i in rng.sample(pool, min(len(pool), 12)):
                chosen[i.pk] = i
        others = [i for i in every if i.pk not in chosen]
        extra = max(40, min(450, self.size // 50))
        for i in rng.sample(others, min(len(others), extra)):
            chosen[i.pk] = i
        items = sorted(chosen.values(), key=lambda i: i.code)
        version_ids = [i.published_version_id for i in items]
        materials: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for pk, version_id, name, necessity in (
            Material.objects.filter(version_id__in=version_ids)
            .order_by("version_id", "order", "pk")
            .values_list("pk", "version_id", "name", "necessity")
        ):
            materials[version_id].append((pk, name, necessity))
        two_levels = set(
            ProcessStep.objects.filter(
                version_id__in=version_ids,
                kind=ProcessStep.Kind.DECIDE,
                role=Role.APPROVER.value,
            ).values_list("version_id", flat=True)
        )
        # Where each item may be accepted all year: the intersection of
        # acceptance.accepting_centers on the first day and on every day a new acceptance rule
        # of the item takes effect. Its answer depends only on the item's department, status,
        # high-frequency flag and scope on the day, so it is asked once per such combination.
        rules: dict[int, list[tuple[date, str]]] = defaultdict(list)
        for item_id, effective, scope in (
            AcceptanceRule.objects.filter(item_id__in=[i.pk for i in items])
            .order_by("item_id", "effective_from")
            .values_list("item_id", "effective_from", "scope")
        ):
            rules[item_id].append((effective, scope))
        accepting: dict[tuple, set[int]] = {}

        def centers_of(item: ServiceItem) -> set[int]:
            history = rules[item.pk]
            days = {self.first_day} | {
                d for d, _s in history if self.first_day < d <= self.last_day
            }
            found: set[int] | None = None
            for day in sorted(days):
                scope = next((s for d, s in reversed(history) if d <= day), None)
                key = (item.department_id, item.status, item.high_frequency, scope)
                if key not in accepting:
                    accepting[key] = set(
                        acceptance.accepting_centers(item, day).values_list("pk", flat=True)
                    )
                found = accepting[key] if found is None else found & accepting[key]
            return found or set()

        # The power ledger: who approves is asked of ledger.approving_body only where an entry
        # of the item's power covers the region (elsewhere the department exercises it).
        self.changing_powers = set(
            LedgerEntry.objects.filter(
                effective_from__gt=self.first_day, effective_from__lte=self.last_day
            ).values_list("power_id", flat=True)
        )
        members: dict[int, list[str]] = defaultdict(list)
        for area_id, path in Region.objects.filter(functional_area__isnull=False).values_list(
            "functional_area_id", "path"
        ):
            members[area_id].append(path)
        self.power_paths: dict[int, list[str]] = defaultdict(list)
        for power_id, region_id, path in LedgerEntry.objects.filter(
            action__in=ledger.GRANTING_ACTIONS
        ).values_list("power_id", "region_id", "region__path"):
            self.power_paths[power_id] += [path, *members[region_id]]
        self.items: list[_Item] = []
        for i in items:
            v = i.published_version
            rows = materials[v.pk]
            entry = _Item(
                item=i,
                version=v,
                department=i.department,
                required=[(pk, n) for pk, n, nec in rows if nec == Material.Necessity.REQUIRED],
                tolerated=[(pk, n) for pk, n, nec in rows if nec == Material.Necessity.TOLERATED],
                two_levels=v.pk in two_levels,
            )
            entry.centers = sorted(c for c in centers_of(i) if c in self.centers)
            if not entry.centers:
                continue
            entry.center_weights = _cumulative(
                [self._center_weight(self.centers[c], i) for c in entry.centers]
            )
            self.items.append(entry)
        weights = []
        for e in self.items:
            if e.item.high_frequency:
                w = 25.0
            elif e.department.code in demo_departments:
                w = 4.0
            else:
                w = rng.choice((0.5, 1.0, 1.0, 2.0, 3.0))
            weights.append(w)
        self.item_cum = _cumulative(weights)
        self.items_at: dict[int, list[_Item]] = defaultdict(list)
        for e in self.items:
            for c in e.centers:
                self.items_at[c].append(e)

    @staticmethod
    def _center_weight(center: ServiceCenter, item: ServiceItem) -> float:
        if center.level == ServiceCenter.Level.CITY:
            return 40.0
        if center.level == ServiceCenter.Level.TOWN:
            return 6.0
        return 0.1

    def _load_people(self) -> None:
        """The demo applicants with logins, and the pool (created when missing)."""
        self.demo_people: dict[str, _Person] = {}
        for applicant in Applicant.objects.filter(
            user__username__in=_demo_applicant_usernames()
        ).select_related("user"):
            self.demo_people[applicant.user.username] = _Person(
                applicant.pk,
                applicant.user_id,
                applicant.kind,
                applicant.name,
                applicant.mobile,
                str(applicant.user)[:150],
            )
        naturals = max(60, self.size // 8)
        legals = max(30, self.size // 30)
        wanted = [f"{PERSON_PREFIX}{i:05d}" for i in range(1, naturals + 1)]
        wanted += [f"{COMPANY_PREFIX}{i:05d}" for i in range(1, legals + 1)]
        existing = {
            a.user.username: a
            for a in Applicant.objects.filter(user__username__in=wanted).select_related("user")
        }
        missing = [u for u in wanted if u not in existing]
        if missing:
            self._create_people(missing)
            existing = {
                a.user.username: a
                for a in Applicant.objects.filter(user__username__in=wanted).select_related("user")
            }
        self.naturals: list[_Person] = []
        self.legals: list[_Person] = []
        for username in wanted:
            a = existing[username]
            person = _Person(a.pk, a.user_id, a.kind, a.name, a.mobile, str(a.user)[:150])
            (self.naturals if a.kind == Applicant.Kind.NATURAL else self.legals).append(person)
        self.demo_applicant_ids = {p.applicant_id for p in self.demo_people.values()}

    def _create_people(self, usernames: list[str]) -> None:
        rng = random.Random(f"{SEED}-people")  # noqa: S311 — the same people every run
        User = get_user_model()
        used_ids = set(
            Applicant.objects.exclude(id_number=None).values_list("id_number", flat=True)
        )
        used_ids |= set(Applicant.objects.exclude(uscc=None).values_list("uscc", flat=True))
        used_mobiles = set(Applicant.objects.values_list("mobile", flat=True))
        used_mobiles |= set(User.objects.exclude(mobile="").values_list("mobile", flat=True))
        used_names: set[str] = set(
            Applicant.objects.filter(kind=Applicant.Kind.LEGAL).values_list("name", flat=True)
        )
        places = [short for _slug, short in org_demo.PLACES.values()]

        def mobile() -> str:
            while True:
                number = rng.choice(org_demo.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
                if number not in used_mobiles:
                    used_mobiles.add(number)
                    return number

        def person(male: bool) -> str:
            given = rng.choice(org_demo.MALE_NAMES if male else org_demo.FEMALE_NAMES)
            return rng.choice(org_demo.SURNAMES) + given

        def resident_id(male: bool) -> str:
            while True:
                birth = date(1955, 1, 1) + timedelta(days=rng.randrange(18_000))
                sequence = rng.randrange(1, 499) * 2 + (1 if male else 0)
                first17 = f"{org_demo.CITY_CODE}{birth:%Y%m%d}{sequence:03d}"
                number = first17 + resident_id_check_char(first17)
                if number not in used_ids:
                    used_ids.add(number)
                    return number

        rows = []
        for username in usernames:
            male = rng.random() < 0.5
            joined = datetime.combine(
                date(2019, 1, 1) + timedelta(days=rng.randrange(2400)),
                datetime.min.time(),
                LOCAL,
            ) + timedelta(minutes=rng.randrange(8 * 60, 22 * 60))
            if username.startswith(PERSON_PREFIX):
                name = person(male)
                rows.append((username, "natural", name, resident_id(male), None, "", "", joined))
            else:
                while True:
                    name = (
                        f"东莞市{rng.choice(places)}{rng.choice(org_demo.ENTERPRISE_BRANDS)}"
                        f"{rng.choice(org_demo.ENTERPRISE_TRADES)}有限公司"
                    )
                    if name not in used_names:
                        used_names.add(name)
                        break
                while True:
                    body = "".join(rng.choice(org_demo.USCC_BODY_CHARS) for _ in range(7))
                    first17 = f"91{org_demo.CITY_CODE}MA{body}"
                    uscc = first17 + uscc_check_char(first17)
                    if uscc not in used_ids:
                        used_ids.add(uscc)
                        break
                rep = person(male)
                rows.append((username, "legal", name, None, uscc, rep, resident_id(male), joined))
        mobiles = {r[0]: mobile() for r in rows}
        User.objects.bulk_create(
            [
                User(
                    username=username,
                    kind="applicant",
                    display_name=name,
                    mobile=mobiles[username],
                    password=UNUSABLE_PASSWORD,
                    is_active=True,
                    date_joined=joined,
                )
                for username, _k, name, *_rest, joined in rows
            ],
            batch_size=500,
        )
        users = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
        with _historical_timestamps(Applicant):
            Applicant.objects.bulk_create(
                [
                    Applicant(
                        user_id=users[username],
                        kind=kind,
                        name=name,
                        id_number=id_number,
                        uscc=uscc,
                        legal_representative=rep,
                        legal_representative_id_number=rep_id,
                        mobile=mobiles[username],
                        created_at=joined,
                    )
                    for username, kind, name, id_number, uscc, rep, rep_id, joined in rows
                ],
                batch_size=500,
            )
        self.result.created["applicants"] += len(rows)

    # --- helpers ------------------------------------------------------------------------------

    def number(self, prefix: str, day: date) -> str:
        while True:
            code = "".join(self.rng.choices(ALPHABET, k=6))
            number = f"{prefix}{day:%Y%m%d}-{code}"
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def staff_at(self, after: datetime, days: int = 0, gap: int = 3) -> datetime:
        """A moment in working hours on the ``days``-th working day after ``after``'s day (0: the
        same day when it is a working day with time left, else the next working day)."""
        day = after.date()
        if days > 0:
            day = workdays.add_working_days(day, days)
        elif not workdays.is_working_day(day):
            day = workdays.working_day_on_or_after(day)
        while True:
            low = after.hour * 60 + after.minute + gap if day == after.date() else 0
            minute = self._slot_minute(low)
            if minute is not None:
                return datetime(
                    day.year,
                    day.month,
                    day.day,
                    minute // 60,
                    minute % 60,
                    self.rng.randrange(60),
                    tzinfo=LOCAL,
                )
            day = workdays.add_working_days(day, 1)

    def soon(self, after: datetime, low: int, high: int) -> datetime:
        """A staff moment ``low``–``high`` minutes after ``after`` when still in working hours
        that day; otherwise the next working moment."""
        moment = after + timedelta(minutes=self.rng.randint(low, high))
        minute = moment.hour * 60 + moment.minute
        if (
            moment.date() == after.date()
            and workdays.is_working_day(moment.date())
            and any(a <= minute < b for a, b in SLOTS)
        ):
            return moment
        return self.staff_at(after, 0, gap=low)

    def quick(self, after: datetime, steps_left: int) -> datetime:
        """The next of ``steps_left`` steps taken at one sitting (a 即办件): a few minutes
        later, squeezed so that all of them end within the current working period."""
        minute = after.hour * 60 + after.minute
        end = next((b for a, b in SLOTS if a <= minute < b), None)
        if end is None or not workdays.is_working_day(after.date()):
            return self.staff_at(after, 0, gap=1)
        left = end * 60 - (minute * 60 + after.second)
        budget = min(15 * 60, left // (steps_left + 1))
        return after + timedelta(seconds=self.rng.randint(budget // 3, budget))

    def _slot_minute(self, low: int) -> int | None:
        spans = [(max(a, low), b) for a, b in SLOTS if b > max(a, low)]
        total = sum(b - a for a, b in spans)
        if total <= 0:
            return None
        pick = self.rng.randrange(total)
        for a, b in spans:
            if pick < b - a:
                return a + pick
            pick -= b - a
        return None  # pragma: no cover

    def applicant_at(self, after: datetime, low_days: int, high_days: int) -> datetime:
        """A moment the applicant acts online: ``low``–``high`` calendar days later, 7:30–23:00."""
        day = after.date() + timedelta(days=self.rng.randint(low_days, high_days))
        minute = self._applicant_minute()
        moment = datetime(
            day.year, day.month, day.day, minute // 60, minute % 60, self.rng.randrange(60),
            tzinfo=LOCAL,
        )  # fmt: skip
        if moment <= after:
            moment = after + timedelta(minutes=self.rng.randint(5, 90))
        return moment

    def _applicant_minute(self) -> int:
        r = self.rng.random()
        if r < 0.7:  # daytime
            return self.rng.randrange(8 * 60 + 30, 18 * 60)
        if r < 0.95:  # evening
            return self.rng.randrange(18 * 60, 23 * 60)
        return self.rng.randrange(7 * 60 + 30, 8 * 60 + 30)

    def clerk(self, center: ServiceCenter) -> _Who:
        staff = self.clerks.get(center.pk)
        if staff:
            return self.rng.choice(staff)
        return _Who(None, f"{center.name}综合窗口"[:150], Role.WINDOW_CLERK.value)

    def department_staff(self, department: Department, role: Role) -> _Who:
        target = self.reviewers if role == Role.REVIEWER else self.approvers
        staff = list(target.get(department.pk, ()))
        for path, r, who in self.region_reviewers:
            if r == role.value and department.region.path.startswith(path):
                staff.append(who)
        if staff:
            return self.rng.choice(staff)
        post = "审核岗" if role == Role.REVIEWER else "审批岗"
        return _Who(None, f"{department.name}{post}"[:150], role.value)

    def approval(
        self, entry: _Item, center: ServiceCenter, on: date
    ) -> tuple[ledger.Exercise, Department]:
        """Who approves ``entry`` accepted at ``center`` on ``on`` (cached per item and region;
        per day too when the item's power has ledger entries taking effect this year)."""
        item = entry.item
        power = item.power_id
        key: tuple = (item.pk, center.region_id)
        if power in self.changing_powers:
            key = (*key, on)
        found = self.approval_cache.get(key)
        if found is None:
            path = center.region.path
            if not any(path.startswith(p) for p in self.power_paths.get(power, ())):
                # approving_body's answer without a query: no entry covers the region
                exercise = ledger.Exercise(
                    body=item.department.name,
                    department=item.department,
                    region=item.department.region,
                    mode="own",
                )
            else:
                exercise = ledger.approving_body(item, center.region, on)
            found = (exercise, resolve_department(exercise, item))
            self.approval_cache[key] = found
        return found

    def pick_item(self) -> _Item:
        return self.items[_pick(self.rng, self.item_cum)]

    def pick_center(self, entry: _Item) -> ServiceCenter:
        return self.centers[entry.centers[_pick(self.rng, entry.center_weights)]]

    def pick_person(self, entry: _Item) -> _Person:
        subject = entry.version.subject
        legal = subject == "legal" or (subject == "both" and self.rng.random() < 0.4)
        return self.rng.choice(self.legals if legal else self.naturals)

    def pick_channel(self, entry: _Item, center: ServiceCenter) -> tuple[str, _Who | None]:
        """(channel, agent) — online when the item allows it, mostly."""
        r = self.rng.random()
        if entry.online:
            if r < 0.53:
                return Channel.WEB, None
            if r < 0.86:
                return Channel.MOBILE, None
            if r < 0.92:
                if center.has_self_service_area:
                    return Channel.KIOSK, None
                return Channel.WEB, None
            r = (r - 0.92) / 0.08
        if r < 0.25 and self.agent_centers.get(center.pk):
            return Channel.AGENCY, self.rng.choice(self.agent_centers[center.pk])
        if r < 0.4 and entry.version.materials_by_mail:
            return Channel.MAIL, None
        return Channel.WINDOW, None

    def draw_fate(self, entry: _Item, channel: str) -> _Fate:
        rng = self.rng
        v = entry.version
        f = _Fate()
        r = rng.random()
        self_filed = channel in (Channel.WEB, Channel.MOBILE, Channel.KIOSK, Channel.AGENCY)
        if self_filed and r < 0.006:
            f.draft = True
        r = rng.random()
        notify, refuse, withdraw = (0.07, 0.015, 0.006) if self_filed else (0.05, 0.01, 0.002)
        if len(entry.required) == 0:
            notify = 0.0
        if r < notify:
            f.intake = "notify"
            f.after_notify = _choose(
                rng, (("resubmit", 0.86), ("withdraw", 0.04), ("refuse", 0.03), ("wait", 0.07))
            )
        elif r < notify + refuse:
            f.intake = "refuse"
        elif r < notify + refuse + withdraw:
            f.intake = "withdraw"
        immediate = entry.immediate
        if entry.tolerated and rng.random() < 0.35:
            f.tolerated_missing = True
            f.tolerated_when = _choose(rng, (("review", 0.55), ("after", 0.43), ("never", 0.02)))
            if immediate and f.tolerated_when == "review":
                f.tolerated_when = "after"
        if not immediate:
            r = rng.random()
            if r < 0.06:
                f.supplement = _choose(rng, (("back", 0.93), ("withdraw", 0.04), ("wait", 0.03)))
            if v.special_procedures and rng.random() < 0.05:
                f.special = True
            if (v.promised_limit_days or 0) >= 10 and rng.random() < 0.012:
                f.extend = True
            f.withdraw_review = rng.random() < 0.005
            r = rng.random()
            f.pace = "stuck" if r < 0.012 else "stuck_start" if r < 0.015 else (
                "late" if r < 0.03 else "normal"
            )  # fmt: skip
            f.fraction = rng.triangular(0.15, 1.0, 0.55)
        f.return_review = entry.two_levels and not immediate and rng.random() < 0.03
        f.deny = rng.random() < (0.03 if entry.item.item_type == "01" else 0.008)
        f.revoke = rng.random() < 0.004
        if v.result_by_mail:
            f.delivery = _choose(
                rng,
                ((DeliveryMode.POST, 0.5), (DeliveryMode.ELECTRONIC, 0.25),
                 (DeliveryMode.PICKUP, 0.25)),
            )  # fmt: skip
        elif v.max_visits == 0:
            f.delivery = _choose(rng, ((DeliveryMode.ELECTRONIC, 0.7), (DeliveryMode.PICKUP, 0.3)))
        else:
            f.delivery = DeliveryMode.PICKUP
        return f

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> None:
        started = time.perf_counter()
        self.tables = _Tables.build()
        _store_shared_file(self.result)
        stories = self._stories()
        self.result.seconds["stories"] = time.perf_counter() - started
        sims: list[_Sim] = list(stories)
        for _n in range(self.size):
            sims.append(self._random_case())
            if len(sims) >= CHUNK:
                self._write(sims)
                sims = []
        if sims:
            self._write(sims)
        self.result.seconds["cases"] = time.perf_counter() - started

    def _random_case(self) -> _Sim:
        rng = self.rng
        entry = self.pick_item()
        center = self.pick_center(entry)
        channel, agent = self.pick_channel(entry, center)
        person = self.pick_person(entry)
        if channel == Channel.AGENCY and person.kind != "legal":
            channel, agent = Channel.WINDOW, None  # 代办 serves enterprises
        fate = self.draw_fate(entry, channel)
        online = channel in (Channel.WEB, Channel.MOBILE, Channel.KIOSK)
        if online:
            day = self.all_days[_pick(rng, self.all_cum)]
            minute = self._applicant_minute()
            t0 = datetime(
                day.year, day.month, day.day, minute // 60, minute % 60, rng.randrange(60),
                tzinfo=LOCAL,
            )  # fmt: skip
        else:
            day = self.work_days[_pick(rng, self.work_cum)]
            t0 = self.staff_at(datetime.combine(day, datetime.min.time(), LOCAL))
        sim = _Sim(self, entry, center, channel, person, fate, agent)
        sim.run(t0)
        return sim

    def _stories(self) -> list[_Sim]:
        """The showcase cases (see the module docstring)."""
        out: list[_Sim] = []
        rotation = [
            S.PRE_REVIEW, S.RECEIVED, S.ACCEPTED, S.IN_REVIEW, S.SPECIAL, S.APPROVAL, S.APPROVED,
            S.APPROVED_TOLERATED, S.DENIED, S.DELIVERED, S.WITHDRAWN, S.REVOKED, S.REFUSED,
            S.DRAFT,
        ]  # fmt: skip
        k = 0
        for username in _demo_applicant_usernames():
            person = self.demo_people.get(username)
            if person is None:
                continue
            targets = [S.NOTIFIED, S.SUPPLEMENT, S.ISSUED, S.CLOSED]
            for _i in range(2):
                targets.append(rotation[k % len(rotation)])
                k += 1
            for target in targets:
                sim = self._story(target, person=person)
                if sim is not None:
                    out.append(sim)
        # Work waiting at every demo clerk's center.
        for center_id, staff in sorted(self.clerks.items()):
            if not any(w.user_id for w in staff) or center_id not in self.items_at:
                continue
            for target in (S.PRE_REVIEW, S.RECEIVED, S.ISSUED):
                sim = self._story(target, center_id=center_id)
                if sim is not None:
                    out.append(sim)
        # Work waiting in every demo reviewer's department, a red and a yellow one among it.
        for code in DEMO_REVIEW_DEPARTMENTS:
            for target, colour in (
                (S.ACCEPTED, ""),
                (S.IN_REVIEW, ""),
                (S.IN_REVIEW, "red"),
                (S.IN_REVIEW, "yellow"),
                (S.ACCEPTED, "red"),
                (S.APPROVAL, ""),
                (S.APPROVAL, "yellow"),
                (S.SUPPLEMENT, ""),
                (S.SPECIAL, ""),
            ):
                sim = self._story(target, department=code, colour=colour)
                if sim is not None:
                    out.append(sim)
        return out

    def _story_items(
        self, target: str, *, person: _Person | None, center_id: int | None, department: str
    ) -> list[_Item]:
        items = self.items_at.get(center_id, []) if center_id else self.items
        out = []
        for e in items:
            v = e.version
            if department and e.department.code != department:
                continue
            if person is not None and v.subject not in (person.kind, "both"):
                continue
            if target in (S.APPROVAL,) and not e.two_levels:
                continue
            if target == S.APPROVED_TOLERATED and not e.tolerated:
                continue
            if target == S.NOTIFIED and not e.required:
                continue
            if target in (S.SUPPLEMENT, S.SPECIAL, S.IN_REVIEW, S.APPROVAL, S.ACCEPTED) and (
                e.immediate or (v.promised_limit_days or 0) < 3
            ):
                continue
            if target == S.SPECIAL and not v.special_procedures:
                continue
            if target in (S.PRE_REVIEW, S.DRAFT) and not e.online:
                continue
            out.append(e)
        return out

    def _story(
        self,
        target: str,
        *,
        person: _Person | None = None,
        center_id: int | None = None,
        department: str = "",
        colour: str = "",
    ) -> _Sim | None:
        rng = self.rng
        candidates = self._story_items(
            target, person=person, center_id=center_id, department=department
        )
        if not candidates:
            return None
        if person is not None:
            preferred = [e for e in candidates if e.department.code in DEMO_REVIEW_DEPARTMENTS]
            if preferred and rng.random() < 0.7:
                candidates = preferred
        entry = rng.choice(candidates)
        if center_id is not None:
            center = self.centers[center_id]
        else:
            near = [
                c for c in entry.centers if self.centers[c].level != ServiceCenter.Level.VILLAGE
            ]
            if department:
                # where the department itself approves (not a body it delegated the power to)
                near = [
                    c
                    for c in near or entry.centers
                    if self.approval(entry, self.centers[c], self.today)[1].code == department
                ] or near
            center = self.centers[rng.choice(near or entry.centers)]
        given = person
        person = given or self.pick_person(entry)
        fate = _Fate(stop_at=target, fraction=rng.triangular(0.2, 0.9, 0.5))
        channel = Channel.WEB if entry.online else Channel.WINDOW
        if target == S.RECEIVED:
            channel = Channel.WINDOW
        if channel == Channel.WEB and rng.random() < 0.4:
            channel = Channel.MOBILE
        if target == S.DRAFT:
            fate.draft = True
        elif target == S.NOTIFIED:
            fate.intake, fate.after_notify = "notify", "wait"
        elif target == S.REFUSED:
            fate.intake = "refuse"
        elif target == S.WITHDRAWN:
            if rng.random() < 0.5:
                fate.intake = "withdraw"
            else:
                fate.withdraw_review = True
        elif target == S.SUPPLEMENT:
            fate.supplement = "wait"
        elif target == S.SPECIAL:
            fate.special = True
        elif target == S.DENIED:
            fate.deny = True
        elif target == S.APPROVED_TOLERATED:
            fate.tolerated_missing, fate.tolerated_when = True, "after"
        elif target == S.REVOKED:
            fate.revoke = True
        if target in (S.ISSUED, S.DELIVERED, S.CLOSED, S.REVOKED):
            fate.delivery = DeliveryMode.PICKUP if target == S.ISSUED else fate.delivery
        if colour:
            for _attempt in range(6):
                sim = self._pinned_story(entry, center, person, replace(fate), colour)
                if sim is not None:
                    return sim
                entry = rng.choice(candidates)
                center = self.centers[rng.choice(entry.centers)]
                person = given or self.pick_person(entry)
            return None
        back = _STORY_DAYS.get(target, (2, 8))
        for attempt in range(12):
            span = rng.randint(*back) + 2**attempt - 1
            day = self.last_day - timedelta(days=span)
            if channel in (Channel.WEB, Channel.MOBILE):
                minute = self._applicant_minute()
                t0 = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=LOCAL)
            else:
                t0 = self.staff_at(datetime.combine(day, datetime.min.time(), LOCAL))
            if t0 < self.start:
                break
            sim = _Sim(self, entry, center, channel, person, fate, None)
            if sim.run(t0) and sim.case.status == target:
                return sim
        return None

    def _pinned_story(
        self, entry: _Item, center: ServiceCenter, person: _Person, fate: _Fate, colour: str
    ) -> _Sim | None:
        """A case accepted on the day that makes it red (3–12 working days overdue) or yellow
        (due on the next working day) today; walked in at the window."""
        limit = entry.version.promised_limit_days or 0
        if colour == "red":
            due = workdays.add_working_days(self.today, -self.rng.randint(3, 12))
        else:
            due = workdays.add_working_days(self.today, min(clock.yellow_days(), 1))
        accepted_on = workdays.add_working_days(due, -limit)
        if accepted_on < self.first_day or accepted_on >= self.today:
            return None
        fate.pace = "stuck" if colour == "red" else "pinned"
        fate.fraction = 1.0
        fate.intake = "pass"
        fate.supplement = ""
        fate.special = False
        fate.extend = False
        fate.tolerated_missing = False
        t0 = self.staff_at(
            datetime.combine(accepted_on, datetime.min.time(), LOCAL) + timedelta(hours=9)
        )
        if t0.date() != accepted_on:
            return None
        sim = _Sim(self, entry, center, Channel.WINDOW, person, fate, None)
        if not sim.run(t0) or sim.case.status != fate.stop_at or sim.case.due_date != due:
            return None
        return sim

    # --- writing ------------------------------------------------------------------------------

    def _write(self, sims: list[_Sim]) -> int:
        """Write a chunk: the cases first (their ids read back by number), then the rows that
        point at them."""
        started = time.perf_counter()
        today = self.today
        tables = self.tables
        before = Case.objects.aggregate(m=Max("pk"))["m"] or 0
        rows = []
        for sim in sims:
            c = sim.case
            c.colour = clock.colour(c, today)
            c.created_at = sim.events[0][9]
            c.updated_at = sim.events[-1][9]
            rows.append(tables.case.row_of(c))
        tables.case.insert(rows)
        ids = dict(Case.objects.filter(pk__gt=before).values_list("number", "pk"))
        events, materials, notices, licences, notes = [], [], [], [], []
        for sim in sims:
            c = sim.case
            c.pk = ids[c.number]
            events.extend((c.pk, *e[1:]) for e in sim.events)
            materials.extend((c.pk, *m[1:]) for m in sim.materials)
            notices.extend((c.pk, *n[1:]) for n in sim.notices)
            if sim.licence is not None:
                sim.licence["case_id"] = c.pk
                licences.append(sim.licence)
            notes.extend(sim.notifications())
        tables.event.insert(events)
        tables.material.insert(materials)
        tables.notice.insert(notices)
        tables.licence.insert([tables.licence.row_from(d) for d in licences])
        tables.notification.insert([tables.notification.row_from(d) for d in notes])
        created = self.result.created
        created["cases"] += len(rows)
        created["events"] += len(events)
        created["materials"] += len(materials)
        created["notices"] += len(notices)
        created["licences"] += len(licences)
        created["notifications"] += len(notes)
        seconds = self.result.seconds
        seconds["write"] = seconds.get("write", 0.0) + time.perf_counter() - started
        return len(rows)


class _Table:
    """``INSERT`` of many rows of one model with ``executemany``, the values adapted by the
    database backend's own adapters (dates, date-times, JSON): bulk_create without building
    model instances — about four times faster on SQLite, where bulk_create is held to 83-row
    batches by the 999-parameter limit. Every column is given (no model default applies) and
    no signal is sent (as with bulk_create)."""

    def __init__(self, model, names: list[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
        if sorted(names) != sorted(fields):
            raise CasesSeedError(f"{model.__name__}: columns {sorted(set(fields) ^ set(names))}")
        self.names = names
        ops = connection.ops
        self.converters: list[tuple[int, object]] = []
        for i, name in enumerate(names):
            field_ = fields[name]
            kind = field_.get_internal_type()
            if kind == "DateTimeField":
                self.converters.append((i, _datetime_adapter()))
            elif kind == "DateField":
                self.converters.append((i, ops.adapt_datefield_value))
            elif kind == "JSONField":
                self.converters.append((i, partial(ops.adapt_json_value, encoder=field_.encoder)))
        columns = ", ".join(ops.quote_name(fields[n].column) for n in names)
        # Table and column names come from the model, values go as parameters.
        self.sql = (
            f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(names))})"
        )

    def row_of(self, obj) -> tuple:
        return tuple(getattr(obj, n) for n in self.names)

    def row_from(self, values: dict) -> tuple:
        return tuple(values[n] for n in self.names)

    def insert(self, rows: list[tuple], batch: int = 5000) -> None:
        converters = self.converters
        with connection.cursor() as cursor:
            for start in range(0, len(rows), batch):
                out = []
                for row in rows[start : start + batch]:
                    row = list(row)
                    for i, convert in converters:
                        if row[i] is not None:
                            row[i] = convert(row[i])
                    out.append(row)
                cursor.executemany(self.sql, out)


def _datetime_adapter():
    """``connection.ops.adapt_datetimefield_value``; on SQLite (which stores naive text in the
    connection's time zone) the same conversion without its checks, for aware values only."""
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value
    tz = connection.timezone

    def adapt(value: datetime) -> str:
        if value.tzinfo is None:
            return connection.ops.adapt_datetimefield_value(value)
        return str(value.astimezone(tz).replace(tzinfo=None))

    return adapt


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


@dataclass
class _Tables:
    case: _Table
    event: _Table
    material: _Table
    notice: _Table
    licence: _Table
    notification: _Table

    @classmethod
    def build(cls) -> _Tables:
        return cls(
            case=_Table(Case, _columns(Case)),
            event=_Table(CaseEvent, EVENT_COLUMNS),
            material=_Table(CaseMaterial, MATERIAL_COLUMNS),
            notice=_Table(CaseNotice, NOTICE_COLUMNS),
            licence=_Table(Licence, _columns(Licence)),
            notification=_Table(Notification, _columns(Notification)),
        )


# The order of the tuples _Sim builds.
EVENT_COLUMNS = [
    "case_id", "action", "from_status", "to_status", "code", "actor_id", "actor_label", "role",
    "center_id", "at", "note", "data",
]  # fmt: skip
MATERIAL_COLUMNS = [
    "case_id", "material_id", "name", "source", "file", "original_name", "content_type", "size",
    "sha256", "scan", "licence_id", "supplement", "uploaded_by_id", "uploaded_at", "removed_at",
]  # fmt: skip
NOTICE_COLUMNS = [
    "case_id", "kind", "number", "items", "reason", "issued_by_id", "issued_in_name_of",
    "issued_at",
]  # fmt: skip


# Calendar days back from yesterday where a showcase case of each status starts (first try).
_STORY_DAYS: dict[str, tuple[int, int]] = {
    S.DRAFT: (0, 3),
    S.PRE_REVIEW: (0, 0),
    S.RECEIVED: (0, 1),
    S.NOTIFIED: (1, 4),
    S.ACCEPTED: (0, 1),
    S.IN_REVIEW: (2, 6),
    S.SUPPLEMENT: (3, 8),
    S.SPECIAL: (4, 10),
    S.APPROVAL: (5, 12),
    S.APPROVED: (5, 20),
    S.APPROVED_TOLERATED: (5, 20),
    S.DENIED: (5, 20),
    S.ISSUED: (5, 20),
    S.DELIVERED: (10, 30),
    S.CLOSED: (30, 120),
    S.REVOKED: (90, 200),
    S.REFUSED: (5, 40),
    S.WITHDRAWN: (5, 40),
}

ROWS: dict[tuple[str, str], lifecycle.Transition] = {}
for _row in lifecycle.TRANSITIONS:
    for _source in _row.sources:
        if (_row.action, _source) in ROWS:  # pragma: no cover — the table is unambiguous
            raise CasesSeedError(f"two rows for {_row.action} from {_source}")
        ROWS[(_row.action, _source)] = _row


class _Sim:
    """One case walked through the table (see the module docstring)."""

    def __init__(
        self,
        b: _Builder,
        entry: _Item,
        center: ServiceCenter,
        channel: str,
        person: _Person,
        fate: _Fate,
        agent: _Who | None,
    ) -> None:
        self.b = b
        self.entry = entry
        self.center = center
        self.channel = channel
        self.person = person
        self.fate = fate
        self.agent = agent
        self.events: list[tuple] = []  # EVENT_COLUMNS
        self.materials: list[tuple] = []  # MATERIAL_COLUMNS
        self.notices: list[tuple] = []  # NOTICE_COLUMNS
        self.licence: dict | None = None
        self.missing: list[tuple[int, str]] = []
        self.tolerated_out: list[tuple[int, str]] = []
        self.online = channel in (Channel.WEB, Channel.MOBILE, Channel.KIOSK)
        self.self_filed = self.online or channel == Channel.AGENCY

    # --- the applicant's side

    def applicant_who(self) -> _Who:
        if self.agent is not None:
            return self.agent
        p = self.person
        return _Who(p.user_id, p.label, Role.APPLICANT.value)

    # --- building blocks

    def reach(self, at: datetime) -> None:
        if at >= self.b.cutoff:
            raise _Stop

    def event(
        self, action: str, at: datetime, who: _Who, *, from_status: str = "", code=None,
        note: str = "", data: dict | None = None,
    ) -> None:  # fmt: skip
        c = self.case
        self.events.append(
            (
                None,  # the case's id, once written
                action,
                from_status,
                c.status if from_status else "",
                code,
                who.user_id,
                who.label,
                who.role,
                c.center_id if who.role == Role.WINDOW_CLERK.value else None,
                at,
                note,
                data or {},
            )
        )

    def move(
        self, action: str, at: datetime, who: _Who, *, note: str = "", data: dict | None = None
    ) -> None:
        c = self.case
        row = ROWS[(action, c.status)]
        from_status = c.status
        data = dict(data or {})
        c.status = row.target
        day = at.date()
        if row.stops_clock:
            clock.pause(c, day)
        if row.restarts_clock:
            data["days_added"] = clock.resume(c, day)
        code = row.code
        if action == "withdraw" and c.accepted_at is None:
            code = 2
        self.event(action, at, who, from_status=from_status, code=code, note=note, data=data)
        if self.fate.stop_at and c.status == self.fate.stop_at:
            raise _Stop

    def add_materials(
        self, materials: list[tuple[int, str]], at: datetime, who: _Who, supplement=False
    ) -> None:
        upload = self.self_filed and who.role == Role.APPLICANT.value
        for i, (pk, name) in enumerate(materials):
            self.materials.append(
                (
                    None,  # the case's id, once written
                    pk,
                    name,
                    CaseMaterial.Source.UPLOAD if upload else CaseMaterial.Source.PAPER,
                    SHARED_FILE if upload else "",
                    f"{name[:60]}.pdf" if upload else "",
                    "application/pdf" if upload else "",
                    len(SHARED_PDF) if upload else 0,
                    SHARED_SHA256 if upload else "",
                    CaseMaterial.Scan.CLEAN,
                    None,
                    supplement,
                    who.user_id,
                    at + timedelta(seconds=20 * i),
                    None,
                )
            )

    def notice(self, kind: str, at: datetime, who: _Who, *, items=None, reason="", name="") -> str:
        c = self.case
        number = self.b.number(NOTICE_PREFIX[kind], at.date())
        self.notices.append(
            (
                None,  # the case's id, once written
                kind,
                number,
                items or [],
                reason,
                who.user_id,
                (
                    name
                    or c.decision_in_name_of
                    or (self.center.name if c.center_id else c.department.name)
                )[:200],
                at,
            )
        )
        return number

    def replace_materials(self, materials: list[tuple[int, str]], at: datetime, who: _Who) -> None:
        """The applicant takes back the listed materials (kept, marked removed, as
        services.remove_material does) and uploads corrected ones."""
        wanted = {pk for pk, _name in materials}
        for i, row in enumerate(self.materials):
            if row[1] in wanted and row[14] is None:
                self.materials[i] = (*row[:14], at - timedelta(minutes=1))
        self.add_materials(materials, at, who)

    # --- the walk

    def run(self, t0: datetime) -> bool:
        """Walk the case from its filing at ``t0``; False when ``t0`` is not in the year."""
        b, e, p = self.b, self.entry, self.person
        v = e.version
        rng = b.rng
        delivery = self.fate.delivery
        postal = ""
        if delivery == DeliveryMode.POST:
            postal = (
                f"广东省东莞市{self.center.region.name}{rng.choice(ROADS)}{rng.randint(1, 399)}号"
            )
        self.case = Case(
            number=b.number("BJ", t0.date()),
            item_id=e.item.pk,
            version=v,
            applicant_id=p.applicant_id,
            filed_by_id=None,
            channel=self.channel,
            status=S.DRAFT,
            title=v.name[:200],
            form_data={"description": f"申请办理{v.name}"[:1000]},
            contact_name=p.name if p.kind == Applicant.Kind.NATURAL else "",
            contact_mobile=p.mobile,
            delivery_mode=delivery,
            postal_address=postal,
            center_id=self.center.pk,
            region_id=self.center.region_id,
            department=e.department,
        )
        if t0 >= b.cutoff:
            return False
        with suppress(_Stop):
            self._walk(t0)
        return True

    def _walk(self, t: datetime) -> None:
        b, c, f, e = self.b, self.case, self.fate, self.entry
        rng = b.rng
        applicant = self.applicant_who()
        filer = applicant if self.self_filed else b.clerk(self.center)
        c.filed_by_id = filer.user_id
        self.filer = filer
        self.event(
            "create",
            t,
            filer,
            data={"channel": self.channel, "item": e.item.code, "version": e.version.number},
        )
        provided = list(e.required)
        if f.intake == "notify" and provided:
            # online, every 必要 material must be there to submit: the notice lists ones to
            # correct; at a window some may be missing
            n = 1 if len(provided) == 1 or rng.random() < 0.7 else 2
            self.missing = rng.sample(provided, n)
            if not self.self_filed:
                provided = [m for m in provided if m not in self.missing]
        if f.tolerated_missing:
            self.tolerated_out = list(e.tolerated)
        else:
            provided += e.tolerated
        if f.draft:
            self.add_materials(provided[:1], t + timedelta(minutes=rng.randint(2, 20)), filer)
            raise _Stop
        first = t + timedelta(seconds=30)
        t = t + timedelta(minutes=rng.randint(6, 25)) if self.self_filed else b.soon(t, 3, 8)
        self.reach(t)
        self.add_materials(provided, first, filer)
        c.submitted_at = t
        if self.self_filed:
            self.move("submit", t, filer)
            self._pre_review(t)
        else:
            self.move("receive", t, filer)
            self._window(t)

    def _pre_review(self, t: datetime, again: bool = False) -> None:
        b, c, f, e = self.b, self.case, self.fate, self.entry
        rng = b.rng
        t = b.staff_at(t, rng.choice((0, 0, 1, 1, 2)), gap=rng.randint(10, 90))
        clerk = b.clerk(self.center)
        if f.intake == "withdraw" and not again:
            tw = c.submitted_at + (t - c.submitted_at) * rng.uniform(0.2, 0.9)
            self.reach(tw)
            self.move("withdraw", tw, self.applicant_who(), note=rng.choice(WITHDRAW_NOTES))
            raise _Stop
        self.reach(t)
        if f.intake == "refuse" and not again:
            reason = rng.choice(REFUSE_REASONS)
            self.notice(CaseNotice.Kind.REFUSAL, t, clerk, reason=reason, name=self.center.name)
            self.move("refuse", t, clerk, note=reason)
            raise _Stop
        if f.intake == "notify" and not again:
            self._notify(t, clerk)
            return
        if e.version.online_depth >= ItemVersion.OnlineDepth.ONLINE_HANDLING:
            self._accept(t, clerk)
            return
        self.move("pass_pre_review", t, clerk)
        visit = b.staff_at(t, rng.randint(1, 4))
        self.reach(visit)
        self._accept(visit, b.clerk(self.center))

    def _window(self, t: datetime) -> None:
        b, f = self.b, self.fate
        rng = b.rng
        clerk = b.clerk(self.center)
        if f.intake == "refuse":
            t = b.soon(t, 5, 20)
            self.reach(t)
            reason = rng.choice(REFUSE_REASONS)
            self.notice(CaseNotice.Kind.REFUSAL, t, clerk, reason=reason, name=self.center.name)
            self.move("refuse", t, clerk, note=reason)
            raise _Stop
        if f.intake == "notify":
            self._notify(b.soon(t, 3, 15), clerk)
            return
        if f.intake == "withdraw":
            t = b.soon(t, 3, 15)
            self.reach(t)
            self.move("withdraw", t, clerk, note=WITHDRAW_NOTES[0])
            raise _Stop
        self._accept(b.soon(t, 5, 30), clerk)

    def _notify(self, t: datetime, clerk: _Who) -> None:
        b, _c, f = self.b, self.case, self.fate
        rng = b.rng
        self.reach(t)
        if self.self_filed:
            items = [f"{name}不清晰或不完整，请重新提供" for _pk, name in self.missing]
        else:
            items = [f"缺少{name}" for _pk, name in self.missing]
        if rng.random() < 0.35 or not items:
            items.append(rng.choice(NOTIFY_EXTRA))
        self.notice(CaseNotice.Kind.ONE_TIME, t, clerk, items=items, name=self.center.name)
        self.move("notify", t, clerk, data={"items": items})
        if f.after_notify == "wait":
            raise _Stop
        if f.after_notify == "refuse":
            tr = b.staff_at(t, rng.randint(5, 12))
            self.reach(tr)
            reason = rng.choice(REFUSE_REASONS)
            self.notice(CaseNotice.Kind.REFUSAL, tr, clerk, reason=reason, name=self.center.name)
            self.move("refuse", tr, b.clerk(self.center), note=reason)
            raise _Stop
        if f.after_notify == "withdraw":
            tw = b.applicant_at(t, 1, 10) if self.self_filed else b.staff_at(t, rng.randint(1, 8))
            self.reach(tw)
            who = self.applicant_who() if self.self_filed else b.clerk(self.center)
            self.move("withdraw", tw, who, note=rng.choice(WITHDRAW_NOTES))
            raise _Stop
        if self.self_filed:
            tb = b.applicant_at(t, 0, 6)
            self.reach(tb)
            self.replace_materials(self.missing, tb - timedelta(minutes=2), self.filer)
            self.move("resubmit", tb, self.filer)
            self._pre_review(tb, again=True)
        else:
            tb = b.staff_at(t, rng.randint(1, 7))
            self.reach(tb)
            clerk = b.clerk(self.center)
            self.add_materials(self.missing, tb - timedelta(minutes=2), clerk)
            self.move("receive", tb, clerk)
            self._accept(b.soon(tb, 5, 20), clerk)

    def _accept(self, t: datetime, clerk: _Who) -> None:
        b, c, e = self.b, self.case, self.entry
        rng = b.rng
        self.reach(t)
        exercise, department = b.approval(e, self.center, t.date())
        c.department = department
        c.approving_body = exercise.body[:200]
        c.decision_in_name_of = exercise.in_name_of[:200]
        c.accepted_by_id = clerk.user_id
        windows = b.windows.get(self.center.pk)
        c.window_id = rng.choice(windows) if windows else None
        c.submitted_at = c.submitted_at or t
        c.tolerated_pending = bool(self.tolerated_out)
        clock.start(c, t)
        to_follow = [name for _pk, name in self.tolerated_out]
        notice = self.notice(
            CaseNotice.Kind.ACCEPTANCE, t, clerk, items=to_follow, name=self.center.name
        )
        self.move(
            "accept",
            t,
            clerk,
            data={
                "department": department.code,
                "mode": exercise.mode,
                "due_date": c.due_date.isoformat(),
                "due_provisional": c.due_provisional,
                "to_follow": to_follow,
                "notice": notice,
            },
        )
        self._review(t)

    def _review(self, t: datetime) -> None:
        b, c, f, e = self.b, self.case, self.fate, self.entry
        rng = b.rng
        dept = c.department
        immediate = c.limit_days == 0
        limit = c.limit_days or 0
        if immediate:
            tr = b.quick(t, 3 if e.two_levels else 2)
        elif f.pace == "stuck_start":
            tr = b.staff_at(t, limit + rng.randint(3, 40))
        else:
            tr = b.staff_at(t, rng.choice((0, 0, 1, 1, 2)) if limit > 2 else 0, gap=10)
        self.reach(tr)
        reviewer = b.department_staff(dept, Role.REVIEWER)
        c.assignee_id = reviewer.user_id
        self.move("start_review", tr, reviewer)
        cursor = tr
        # how many working days after acceptance the decision falls
        if immediate:
            offset = 0
        elif f.pace == "stuck":
            offset = limit + rng.randint(8, 60)
        elif f.pace == "late":
            offset = limit + rng.randint(1, 5)
        elif f.pace == "pinned":
            offset = limit + 30
        else:
            offset = max(1, round(limit * f.fraction))
        span = max(1, offset)
        if f.tolerated_missing and f.tolerated_when == "review":
            tt = b.staff_at(cursor, rng.randint(0, max(0, span // 2)))
            self.reach(tt)
            clerk = b.clerk(self.center)
            self.add_materials(self.tolerated_out, tt - timedelta(minutes=1), clerk)
            self.tolerated_out = []
            c.tolerated_pending = False
            self.event("receive_tolerated", tt, clerk)
            cursor = tt
        if f.withdraw_review:
            tw = b.staff_at(cursor, rng.randint(1, max(1, span)))
            self.reach(tw)
            who = self.applicant_who() if self.self_filed else b.clerk(self.center)
            c.paused_since = None
            c.assignee_id = None
            self.move("withdraw", tw, who, note=rng.choice(WITHDRAW_NOTES))
            raise _Stop
        if f.supplement:
            self._supplement(cursor, reviewer, span)
            cursor = self.cursor
        if f.special:
            self._special(cursor, reviewer)
            cursor = self.cursor
        if f.extend and not immediate:
            te = b.staff_at(cursor, rng.randint(1, max(1, span // 2)))
            self.reach(te)
            approver = b.department_staff(dept, Role.APPROVER)
            days = rng.randint(5, 10)
            c.extension_reason = EXTEND_REASON
            clock.extend(c, days)
            self.event(
                "extend", te, approver, note=EXTEND_REASON,
                data={"days": days, "due_date": c.due_date.isoformat()},
            )  # fmt: skip
            cursor = te
        if immediate:  # 即办件: decided at the same sitting
            decider = reviewer
            if e.two_levels:
                ts = b.quick(cursor, 2)
                self.reach(ts)
                self.move("submit_for_approval", ts, reviewer, note="经审核，符合条件")
                cursor, decider = ts, b.department_staff(dept, Role.APPROVER)
            td = b.quick(cursor, 1)
            self.reach(td)
            self._decide(td, decider)
            return
        # the decision day: the planned offset, counted with the paused and extension days
        decision_day = workdays.add_working_days(
            c.accepted_on, offset + c.paused_days + c.extension_days
        )
        if decision_day > cursor.date():
            td = b.staff_at(datetime.combine(decision_day, datetime.min.time(), LOCAL))
        else:
            td = b.staff_at(cursor, 0, gap=20)
        if e.two_levels:
            # submitted for approval a working day (or a few hours) before the decision; a
            # showcase waiting for approval is submitted early and stays there
            before = workdays.add_working_days(td.date(), -1)
            if f.stop_at == S.APPROVAL:
                ts = b.staff_at(cursor, rng.randint(0, 2), gap=30)
            elif before > cursor.date():
                ts = b.staff_at(datetime.combine(before, datetime.min.time(), LOCAL))
            else:
                ts = b.soon(cursor, 10, 60)
            self.reach(ts)
            self.move("submit_for_approval", ts, reviewer, note="经审核，符合条件，拟准予许可")
            approver = b.department_staff(dept, Role.APPROVER)
            if f.return_review:
                tb = b.staff_at(ts, 0, gap=30)
                self.reach(tb)
                self.move("return_for_review", tb, approver, note=rng.choice(RETURN_REASONS))
                ts = b.staff_at(tb, rng.randint(1, 2))
                self.reach(ts)
                self.move("submit_for_approval", ts, reviewer, note="已补充核查情况")
            td = max(td, b.soon(ts, 20, 120))
            decider = approver
        else:
            decider = reviewer
            td = max(td, b.soon(cursor, 10, 60))
        self.reach(td)
        self._decide(td, decider)

    def _supplement(self, t: datetime, reviewer: _Who, span: int) -> None:
        b, c, f, e = self.b, self.case, self.fate, self.entry
        rng = b.rng
        tq = b.staff_at(t, rng.randint(1, max(1, span // 2)))
        self.reach(tq)
        names = [name for _pk, name in e.required] or [e.version.name]
        items = [rng.choice(SUPPLEMENT_ITEMS).format(m=rng.choice(names))]
        if rng.random() < 0.3:
            items.append(rng.choice(SUPPLEMENT_ITEMS).format(m=rng.choice(names)))
        items = list(dict.fromkeys(items))
        c.supplement_due = tq.date() + timedelta(days=_supplement_days())
        notice = self.notice(CaseNotice.Kind.SUPPLEMENT, tq, reviewer, items=items)
        data = {"items": items, "supplement_due": c.supplement_due.isoformat(), "notice": notice}
        self.move("request_supplement", tq, reviewer, data=data)
        if f.supplement == "wait":
            raise _Stop
        if f.supplement == "withdraw":
            tw = b.applicant_at(tq, 2, 12) if self.self_filed else b.staff_at(tq, 3)
            self.reach(tw)
            who = self.applicant_who() if self.self_filed else b.clerk(self.center)
            c.paused_since = None
            c.assignee_id = None
            self.move("withdraw", tw, who, note=WITHDRAW_NOTES[1])
            raise _Stop
        if self.self_filed:
            tb = b.applicant_at(tq, 1, 9)
            who = self.applicant_who()
        else:
            tb = b.staff_at(tq, rng.randint(1, 6))
            who = b.clerk(self.center)
        self.reach(tb)
        pk, name = rng.choice(e.required) if e.required else (None, "补正材料")
        self.add_materials([(pk, name)], tb - timedelta(minutes=3), who, supplement=True)
        c.supplement_due = None
        self.move("supplement", tb, who)
        self.cursor = tb

    def _special(self, t: datetime, reviewer: _Who) -> None:
        b, _c = self.b, self.case
        rng = b.rng
        ts = b.staff_at(t, rng.randint(1, 3))
        self.reach(ts)
        kind = rng.choice(sorted(SPECIAL_REASONS))
        if kind not in SPECIAL_KINDS:  # pragma: no cover — kept in step with services
            kind = "other"
        reason = SPECIAL_REASONS.get(kind, "依法启动特别程序")
        self.notice(CaseNotice.Kind.SPECIAL, ts, reviewer, items=[kind], reason=reason)
        self.move("start_special", ts, reviewer, note=reason, data={"kind": kind})
        te = b.staff_at(ts, rng.randint(3, 20))
        self.reach(te)
        self.move("end_special", te, reviewer, note="特别程序已完成")
        self.cursor = te

    def _decide(self, t: datetime, decider: _Who) -> None:
        b, c, f = self.b, self.case, self.fate
        rng = b.rng
        if f.deny:
            decision, action = Decision.DENIED, "deny"
            reason = rng.choice(DENY_REASONS)
        elif c.tolerated_pending:
            decision, action = Decision.APPROVED_TOLERATED, "approve_tolerated"
            reason = "容缺受理，准予许可，容缺材料须在规定期限内补齐"
        else:
            decision, action = Decision.APPROVED, "approve"
            reason = rng.choice(APPROVE_NOTES)
        c.decision = decision
        c.decision_reason = reason
        c.decided_at = t
        c.decided_by_id = decider.user_id
        c.paused_since = None
        self.notice(CaseNotice.Kind.DECISION, t, decider, items=[decision], reason=reason)
        self.move(
            action, t, decider, note=reason,
            data={"decision": decision, "on_time": clock.on_time(c)},
        )  # fmt: skip
        self._result(t, decider)

    def _result(self, t: datetime, decider: _Who) -> None:
        b, c, f, e = self.b, self.case, self.fate, self.entry
        rng = b.rng
        dept = c.department
        if c.status == S.DENIED:
            tc = b.staff_at(t, rng.randint(1, 5))
            self.reach(tc)
            c.closed_at = tc
            self.move("close", tc, b.department_staff(dept, Role.REVIEWER))
            return
        ti = b.soon(t, 5, 120) if rng.random() < 0.7 else b.staff_at(t, 1)
        self.reach(ti)
        issuer = b.department_staff(dept, Role.REVIEWER)
        c.issued_at = ti
        c.licence_number = b.number("ZZ", ti.date())
        v = e.version
        self.licence = {
            "holder_id": c.applicant_id,
            "licence_type": (v.result_name or v.name)[:100],
            "number": c.licence_number,
            "issuer": (c.decision_in_name_of or dept.name)[:200],
            "issued_on": ti.date(),
            "valid_until": None,
            "status": Licence.Status.VALID,
            "case_id": None,
            "created_at": ti,
        }
        self.move("issue_result", ti, issuer, data={"licence_number": c.licence_number})
        mode = c.delivery_mode
        if mode == DeliveryMode.PICKUP:
            th = b.staff_at(ti, rng.choice((0, 1, 1, 2, 3, 5, 8)), gap=30)
            giver = b.clerk(self.center)
        elif mode == DeliveryMode.POST:
            th = b.staff_at(ti, rng.randint(0, 2), gap=30)
            giver = b.department_staff(dept, Role.REVIEWER)
        else:
            th = b.soon(ti, 1, 10)
            giver = issuer
        pending_after = f.tolerated_missing and f.tolerated_when in ("after", "never")
        tt = None
        if pending_after and f.tolerated_when == "after":
            tt = b.staff_at(ti, rng.randint(1, 15))
        if tt is not None and tt < th:
            self.reach(tt)
            self._tolerated_arrived(tt)
        self.reach(th)
        c.delivered_at = th
        self.move("hand_out", th, giver, data={"delivery_mode": mode})
        if tt is not None and tt >= th:
            self.reach(tt)
            self._tolerated_arrived(tt)
            th = tt
        if c.tolerated_pending:
            raise _Stop  # cannot be archived before the 容缺 materials arrive
        tc = b.staff_at(th, rng.randint(0, 3), gap=30)
        self.reach(tc)
        c.closed_at = tc
        closer = b.clerk(self.center) if rng.random() < 0.6 else b.department_staff(
            dept, Role.REVIEWER
        )  # fmt: skip
        self.move("close", tc, closer)
        if f.revoke:
            tv = b.staff_at(tc, rng.randint(10, 80))
            self.reach(tv)
            reason = "申请人以欺骗手段取得行政许可，依法撤销"
            self.licence["status"] = Licence.Status.REVOKED
            self.move("revoke", tv, b.department_staff(dept, Role.APPROVER), note=reason)

    def _tolerated_arrived(self, t: datetime) -> None:
        c = self.case
        clerk = self.b.clerk(self.center)
        self.add_materials(self.tolerated_out, t - timedelta(minutes=1), clerk)
        self.tolerated_out = []
        c.tolerated_pending = False
        self.event("receive_tolerated", t, clerk)

    # --- messages

    def notifications(self) -> list[dict]:
        """The status messages of a demo applicant's case (inbox and SMS, as
        notify.case_status_changed writes them) and the clock alert of a red or yellow case
        to its demo staff (as services.refresh_clocks would have sent it)."""
        c = self.case
        out: list[dict] = []

        def message(channel, user_id, mobile, subject, body, kind, at, read=None) -> dict:
            return {
                "channel": channel,
                "user_id": user_id,
                "mobile": mobile,
                "subject": subject[:200],
                "body": body,
                "kind": kind,
                "case_id": c.pk,
                "status": Notification.Status.SENT,
                "created_at": at,
                "sent_at": at,
                "read_at": read,
            }

        if self.person.applicant_id in self.b.demo_applicant_ids:
            for ev in self.events:
                action, from_status, to_status, at, note = ev[1], ev[2], ev[3], ev[9], ev[10]
                listed = "；".join(f"{i}. {t}" for i, t in enumerate(ev[11].get("items", []), 1))
                note = "\n".join(filter(None, [note, listed]))
                if not from_status or to_status == from_status:
                    continue
                row = ROWS[(action, from_status)]
                subject = _("您的办件%(number)s：%(step)s") % {
                    "number": c.number,
                    "step": str(row.label),
                }
                body = _("事项：%(title)s。当前状态：%(status)s。") % {
                    "title": c.title,
                    "status": str(Status(to_status).label),
                }
                if note:
                    body += _("说明：%(note)s") % {"note": note[:300]}
                old = at < self.b.cutoff - timedelta(days=3)
                read = at + timedelta(hours=2) if old else None
                inbox = Notification.Channel.INBOX
                out.append(
                    message(inbox, self.person.user_id, "", subject, body, "case_status", at, read)
                )
                if c.contact_mobile:
                    sms = Notification.Channel.SMS
                    out.append(
                        message(sms, None, c.contact_mobile, subject, body, "case_status", at)
                    )
        if c.colour in ("red", "yellow") and c.due_date:
            if c.colour == "red":
                subject = _("办件%(number)s已超期") % {"number": c.number}
                turned = c.due_date + timedelta(days=1)
            else:
                subject = _("办件%(number)s即将到期") % {"number": c.number}
                turned = workdays.add_working_days(c.due_date, -clock.yellow_days())
            at = max(
                datetime.combine(turned, datetime.min.time(), LOCAL) + timedelta(minutes=15),
                self.events[-1][9] + timedelta(minutes=1),
            )
            at = min(at, self.b.cutoff - timedelta(minutes=1))
            body = _("事项：%(title)s，办结期限：%(due)s。") % {"title": c.title, "due": c.due_date}
            if c.assignee_id:
                recipients = [c.assignee_id]
            else:
                recipients = [
                    w.user_id for w in self.b.reviewers.get(c.department_id, ()) if w.user_id
                ]
            for user_id in recipients:
                inbox = Notification.Channel.INBOX
                out.append(message(inbox, user_id, "", subject, body, f"case_{c.colour}", at))
        return out


# --------------------------------------------------------------------------------------------
# Small helpers


def _supplement_days() -> int:
    from .services import supplement_calendar_days

    return supplement_calendar_days()


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    from bisect import bisect_right

    x = rng.random() * cumulative[-1]
    return min(bisect_right(cumulative, x), len(cumulative) - 1)


def _choose(rng: random.Random, options) -> str:
    r = rng.random() * sum(w for _v, w in options)
    for value, weight in options:
        if r < weight:
            return value
        r -= weight
    return options[-1][0]


def _store_shared_file(result: CasesSeedResult) -> None:
    """The one small PDF every demo upload points at (stored once)."""
    if not default_storage.exists(SHARED_FILE):
        default_storage.save(SHARED_FILE, ContentFile(SHARED_PDF))
        result.created["files"] += 1


@contextmanager
def _historical_timestamps(*models) -> Iterator[None]:
    """Let bulk_create write the historical ``auto_now`` / ``auto_now_add`` values we computed
    (created_at, updated_at, uploaded_at) instead of the present moment. Only the seed's own
    process runs while the flags are off."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add
