"""The Dongguan demo catalog (东莞演示事项目录) that ``manage.py seed_demo --profile dongguan``
builds after the organization (:mod:`tongban.org.demo`), at the city's real size.

Sources, all in ``fixtures/dongguan/``: ``catalog_base.csv`` (390 real base items, the shared
reference data) and ``extra_items.csv`` (33 more licensing items, ours); the sub-item patterns
(``subitems.json``), materials (``materials.json``), everyday words (``everyday.csv``), themes
and life events (``themes.json``), FAQs (``faqs.json``), where items are handled
(``programme.json``) and the vocabulary of powers and supervision items (``supervision.json``).
Document numbers marked 虚构 are invented; everything is deterministic (fixed seed).

Counting definitions — the statistics layer must count RECORDS exactly like this
------------------------------------------------------------------------------------------
**Entry** (事项, counting sub-items): a ``ServiceItem`` with ``status="in_use"`` whose
``published_version`` is in state ``published`` and that has no sub-item of its own that is in
use with a published version. A base item with sub-items (业务办理项) is counted through its
sub-items; a base item without sub-items counts itself. In ORM terms (:func:`entries`)::

    live_sub = ServiceItem.objects.filter(parent=OuterRef("pk"), status="in_use",
                                          published_version__state="published")
    entries = ServiceItem.objects.filter(status="in_use", published_version__state="published")
                                 .exclude(Exists(live_sub))

Over those entries the demo yields (:data:`FIGURES`, :func:`figures`):

* ``licensing_items_total`` = entries with ``item_type="01"`` (行政许可) — **1,478**;
* ``licensing_items_online`` = those with ``published_version.handled_online`` — **1,478**
  (网上可办率 100%);
* ``licensing_items_full_online`` = those with ``online_depth=4`` and ``max_visits=0`` —
  **1,417** (全程网办率 1417/1478 = 95.87%);
* ``no_meeting_items`` = entries of any type with ``max_visits=0`` and ``result_by_mail``
  (``ItemVersion.no_meeting``; those are also exactly the entries with ``handled_by_mail`` and
  ``materials_by_mail`` — two-way free post) — **2,878**;
* of them accepted at the citizen service center (东莞市民服务中心, SC441900) today — **619**:
  the acceptance rule in force today (latest ``AcceptanceRule`` with ``effective_from`` ≤ today)
  includes the city center, i.e. the item's department is a city department (every scope of a
  city item includes the city center, see ``acceptance.py``) or the scope is ``citywide``.
  The other 2,259 are implemented by the streets' and towns' own departments, accepted at their
  town centers only;
* ``town_acceptance_items`` = items of the ``AcceptanceBatch`` of June 2020 (one
  ``AcceptanceRule`` each, scope ``any_town``, 2020-06-01) — **40** city-level items, including
  第一类医疗器械生产备案; no other item has the scope ``any_town``;
* ``powers_delegated`` = ``LedgerEntry`` rows with ``action="delegate"`` — **785**; each is a
  different power, so distinct delegated powers are 785 too; ``powers_delegated_to_functional_
  areas`` = those whose region is DG-FA-SSH 松山湖功能区 or DG-FA-SX 水乡功能区 — **168** (108 and
  60); the other 617 go to single streets or towns; effective 2019-03-01 … 2020-01-01;
* ``powers_recovered`` = ``action="recover"`` rows — **99**; each ends (``ends``) a delegation
  to a town of the same power and region, on 2020-07-01, later than the delegation;
* ``supervision_items`` = ``SupervisionItem`` rows with ``level="city"`` (and active) — **825**,
  no two with the same or a near name (``supervision.find_similar``);
* high-frequency (高频事项) entries: **150** (city entries only), each accepted ``citywide``.

Codes: ``base_code`` (基本编码, 12 characters) = ``441900`` + item type (2 digits: 01–10, 20
公共服务, 21 行政备案) + department number (2 digits, its row in the organization's
``departments.csv``) + sequence within department and type (2 digits). Implementation code
(实施编码, ``ServiceItem.code``) = base code + ``000`` for a city department or the last three
digits of the street/town code for a town department; a sub-item's code = its base item's
code + a 3-digit sequence (18 characters). Powers: ``QL`` + category + department number + a
4-digit sequence; supervision items: ``JG441900`` + department number + a 3-digit sequence.

What the seed writes: every item has version 1 in state ``published`` since 2019-01-01
(imported: no creator, submitter or approver, ``change_note`` says so), 3–6 materials (some
容缺, some reusable electronic licences; the application form of popular items with a generic
blank form and a filled-in sample, PDFs of ``fixtures/dongguan/forms/`` copied into the media
storage), steps (the five licensing steps with days summing to at most the promised limit;
three for other items), FAQs on popular items, everyday aliases, themes and life events, and an
initial ``AcceptanceRule`` from 2019-01-01. City base items of the power
categories 01–10 link to one ``Power`` each (their sub-items to the same); town implementations
are exercised by the town in its own name and link to none.

Idempotent: rows are matched on their natural keys (item, power and supervision codes, (item,
effective date) of rules, the batch's document number, (power, action, region, date) of ledger
entries); missing rows are created in bulk, existing ones are left as they are (a catalog
administrator may have published newer versions since), nothing is deleted.
"""

from __future__ import annotations

import csv
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.org.demo import TOWN_DEPARTMENTS, VILLAGE_COUNTS
from tongban.org.models import Department, Region

from .models import (
    AcceptanceBatch,
    AcceptanceRule,
    AcceptanceScope,
    Faq,
    ItemVersion,
    LedgerEntry,
    Material,
    Power,
    ProcessStep,
    ServiceItem,
    SupervisionItem,
)
from .supervision import MIN_CONTAINED_LENGTH, SIMILARITY_THRESHOLD, normalize_name
from .themes import BUSINESS_LIFE_EVENTS, BUSINESS_THEMES, PERSONAL_LIFE_EVENTS, PERSONAL_THEMES

SEED = 20201021
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dongguan"
ORG_FIXTURES = Path(__file__).resolve().parents[1] / "org" / "fixtures" / "dongguan"
CITY_CODE = "441900"
CITY_CENTER_CODE = f"SC{CITY_CODE}"
SHANGHAI = ZoneInfo("Asia/Shanghai")
INITIAL_SCOPE_FROM = date(2019, 1, 1)
PUBLISHED_AT = datetime(2019, 1, 1, 9, 0, tzinfo=SHANGHAI)  # in force from INITIAL_SCOPE_FROM
IMPORT_NOTE = "演示数据：东莞市政务服务事项目录初始导入"
INVENTED_NOTE = "演示数据：文号为虚构"
FUNCTIONAL_AREAS = {"DG-FA-SSH": 108, "DG-FA-SX": 60}  # delegations to each
# Blank forms and filled-in samples (generic, one per audience) for the application forms of
# popular items: fixture file -> storage name (copied into MEDIA_ROOT when missing).
FORM_FILES = {
    "blank_application_legal.pdf": "catalog/forms/demo/blank_application_legal.pdf",
    "blank_application_natural.pdf": "catalog/forms/demo/blank_application_natural.pdf",
    "sample_application_legal.pdf": "catalog/samples/demo/sample_application_legal.pdf",
    "sample_application_natural.pdf": "catalog/samples/demo/sample_application_natural.pdf",
}

# The published figures (MISSION.md) the demo reproduces from records; see the docstring.
FIGURES: dict[str, int] = {
    "licensing_items_total": 1478,
    "licensing_items_online": 1478,
    "licensing_items_full_online": 1417,
    "no_meeting_items": 2878,
    "no_meeting_items_at_city_center": 619,
    "town_acceptance_items": 40,
    "powers_delegated": 785,
    "powers_delegated_to_functional_areas": 168,
    "powers_recovered": 99,
    "supervision_items": 825,
    "high_frequency_items": 150,
}

TYPE_CODES = {
    "行政许可": "01",
    "行政处罚": "02",
    "行政强制": "03",
    "行政征收": "04",
    "行政给付": "05",
    "行政检查": "06",
    "行政确认": "07",
    "行政奖励": "08",
    "行政裁决": "09",
    "其他行政权力": "10",
    "公共服务": "20",
    "备案": "21",
}
POWER_TYPES = {f"{n:02d}" for n in range(1, 11)}
SUBJECTS = {"法人": "legal", "自然人": "natural", "自然人/法人": "both"}
MARKET_ENTITY_ITEMS = (
    "公司登记", "分公司登记", "非公司企业法人登记", "合伙企业登记", "个人独资企业登记",
    "个体工商户登记", "农民专业合作社登记", "外商投资企业登记",
)  # fmt: skip
# City departments with windows in the citizen service center (org.demo); their items with a
# visit can be booked.
BOOKABLE_DEPARTMENTS = (
    "D-GA", "D-RS", "D-SCJG", "D-MZ", "D-WJ", "D-ZJ", "D-JT", "D-SW", "D-WGLT", "D-YB",
    "D-NYNC", "D-BDC", "D-JY", "D-GJJ", "D-ZRZY",
)  # fmt: skip
# Departments whose powers go to the functional areas (development and reform, natural
# resources, housing and construction, transport, ...), in this order of preference.
FUNCTIONAL_AREA_DEPARTMENTS = (
    "D-FG", "D-ZRZY", "D-ZJ", "D-JT", "D-STHJ", "D-SHUIW", "D-LY", "D-CGZF", "D-YJ",
    "D-NYNC", "D-WGLT", "D-SCJG",
)  # fmt: skip
# Town delegation batches: (effective date, invented document number, number of powers).
TOWN_BATCHES = (
    (date(2019, 3, 1), "东府〔2019〕18号", 300),
    (date(2019, 9, 1), "东府〔2019〕96号", 200),
    (date(2020, 1, 1), "东府〔2019〕152号", 117),
)
FUNCTIONAL_AREA_BATCH = (date(2019, 11, 1), "东府〔2019〕121号")
RECOVERY = (date(2020, 7, 1), "东府〔2020〕63号")
CONSULTATION = "0769-12345（东莞市政务服务便民热线）"
COMPLAINT = "12345政务服务便民热线；东莞市政务服务数据管理局监督投诉"
REMEDIES = "对办理结果不服的，可以自知道之日起60日内依法申请行政复议，或者6个月内依法提起行政诉讼。"


class CatalogSeedError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# Counting (the definitions of the module docstring)


def entries(queryset: QuerySet[ServiceItem] | None = None) -> QuerySet[ServiceItem]:
    """Entries: items in use with a published version and no live sub-item of their own."""
    live_sub = ServiceItem.objects.filter(
        parent=OuterRef("pk"),
        status=ServiceItem.Status.IN_USE,
        published_version__state=ItemVersion.State.PUBLISHED,
    )
    qs = ServiceItem.objects.all() if queryset is None else queryset
    return qs.filter(
        status=ServiceItem.Status.IN_USE, published_version__state=ItemVersion.State.PUBLISHED
    ).exclude(Exists(live_sub))


def licensing_entries() -> QuerySet[ServiceItem]:
    return entries().filter(item_type="01")


def full_online(qs: QuerySet[ServiceItem]) -> QuerySet[ServiceItem]:
    return qs.filter(published_version__online_depth=4, published_version__max_visits=0)


def no_meeting(qs: QuerySet[ServiceItem] | None = None) -> QuerySet[ServiceItem]:
    qs = entries() if qs is None else qs
    return qs.filter(published_version__max_visits=0, published_version__result_by_mail=True)


def accepted_at_city_center(
    qs: QuerySet[ServiceItem], on_date: date | None = None
) -> QuerySet[ServiceItem]:
    """Items whose acceptance scope in force on ``on_date`` includes the city center."""
    on_date = on_date or timezone.localdate()
    scope = AcceptanceRule.objects.filter(
        item=OuterRef("pk"), effective_from__lte=on_date
    ).order_by("-effective_from")
    return qs.annotate(scope_now=Subquery(scope.values("scope")[:1])).filter(
        Q(department__level=Department.Level.CITY) | Q(scope_now=AcceptanceScope.CITYWIDE)
    )


def figures(on_date: date | None = None) -> dict[str, int]:
    """The published figures counted from the records (compare with :data:`FIGURES`)."""
    licensing = licensing_entries()
    fa = Q(region__code__in=list(FUNCTIONAL_AREAS))
    return {
        "licensing_items_total": licensing.count(),
        "licensing_items_online": licensing.filter(published_version__handled_online=True).count(),
        "licensing_items_full_online": full_online(licensing).count(),
        "no_meeting_items": no_meeting().count(),
        "no_meeting_items_at_city_center": accepted_at_city_center(no_meeting(), on_date).count(),
        "town_acceptance_items": AcceptanceRule.objects.filter(
            batch__document_no=programme()["town_acceptance_2020"]["document_no"]
        ).count(),
        "powers_delegated": LedgerEntry.objects.filter(action="delegate").count(),
        "powers_delegated_to_functional_areas": LedgerEntry.objects.filter(
            fa, action="delegate"
        ).count(),
        "powers_recovered": LedgerEntry.objects.filter(action="recover").count(),
        "supervision_items": SupervisionItem.objects.filter(level="city", active=True).count(),
        "high_frequency_items": entries().filter(high_frequency=True).count(),
    }


# --------------------------------------------------------------------------------------------
# Fixture files


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _read_json(name: str) -> Any:
    with (FIXTURES / name).open(encoding="utf-8") as f:
        return json.load(f)


@cache
def programme() -> dict:
    return _read_json("programme.json")


# --------------------------------------------------------------------------------------------
# The plan: every row the seed writes, computed without the database


@dataclass
class ItemPlan:
    code: str
    base_code: str
    parent: str | None
    business_kind: str
    item_type: str
    department: str
    town: str | None  # street/town region code of a town implementation
    name: str
    base: dict[str, str]  # the CSV row of the base item
    power: str | None = None
    high_frequency: bool = False
    town_acceptance: bool = False
    has_subs: bool = False
    depth: int = 1
    visits: int = 1
    mail: bool = False
    version: dict[str, Any] = field(default_factory=dict)
    materials: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    faqs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def scope(self) -> str:
        return (
            AcceptanceScope.CITYWIDE if self.high_frequency else AcceptanceScope.DEPARTMENT_CENTER
        )

    @property
    def is_entry(self) -> bool:
        return not self.has_subs


@dataclass
class PowerPlan:
    code: str
    name: str
    category: str
    department: str
    basis: str
    object: str = ""
    kind: str = ""  # item / inspection / penalty / coercion / levy


@dataclass
class LedgerPlan:
    power: str
    action: str
    region: str
    receiving_body: str
    effective_from: date
    document_no: str
    ends: tuple | None = None

    @property
    def key(self) -> tuple:
        return (self.power, self.action, self.region, self.effective_from)


@dataclass
class SupervisionPlan:
    code: str
    name: str
    department: str
    basis: str
    measures: str
    object: str
    powers: list[str]


@dataclass
class Plan:
    items: list[ItemPlan]
    powers: list[PowerPlan]
    ledger: list[LedgerPlan]
    supervision: list[SupervisionPlan]
    batch: dict[str, Any]

    def counts(self) -> dict[str, int]:
        leaves = [i for i in self.items if i.is_entry]
        licensing = [i for i in leaves if i.item_type == "01"]
        nm = [i for i in leaves if i.visits == 0 and i.mail]
        return {
            "licensing_items_total": len(licensing),
            "licensing_items_online": sum(i.version["handled_online"] for i in licensing),
            "licensing_items_full_online": sum(i.depth == 4 and i.visits == 0 for i in licensing),
            "no_meeting_items": len(nm),
            "no_meeting_items_at_city_center": sum(i.town is None or i.high_frequency for i in nm),
            "town_acceptance_items": sum(i.town_acceptance for i in self.items),
            "powers_delegated": sum(e.action == "delegate" for e in self.ledger),
            "powers_delegated_to_functional_areas": sum(
                e.action == "delegate" and e.region in FUNCTIONAL_AREAS for e in self.ledger
            ),
            "powers_recovered": sum(e.action == "recover" for e in self.ledger),
            "supervision_items": len(self.supervision),
            "high_frequency_items": sum(i.high_frequency for i in leaves),
        }


@dataclass
class _Org:
    departments: list[dict[str, str]]  # departments.csv rows (their order numbers the codes)
    by_name: dict[str, str]  # department name or short name -> code
    towns: list[dict[str, str]]  # streets and towns under the city, by code
    regions: dict[str, dict[str, str]]


def _org() -> _Org:
    departments = _read_csv(ORG_FIXTURES / "departments.csv")
    by_name: dict[str, str] = {}
    for row in departments:
        by_name[row["name"]] = row["code"]
        by_name.setdefault(row["short_name"], row["code"])
    regions = {r["code"]: r for r in _read_csv(ORG_FIXTURES / "dongguan_regions.csv")}
    towns = sorted(
        (
            r
            for r in regions.values()
            if r["level"] in ("street", "town") and r["parent_code"] == CITY_CODE
        ),
        key=lambda r: r["code"],
    )
    return _Org(departments, by_name, towns, regions)


def _base_rows(org: _Org) -> list[dict[str, str]]:
    renamed = programme()["renamed"]
    rows = _read_csv(FIXTURES / "catalog_base.csv") + _read_csv(FIXTURES / "extra_items.csv")
    seen: set[str] = set()
    for row in rows:
        row["item_name"] = renamed.get(row["item_name"], row["item_name"])
        if row["item_name"] in seen:
            raise CatalogSeedError(f"duplicate base item {row['item_name']}")
        seen.add(row["item_name"])
        row["type"] = TYPE_CODES[row["item_type"]]
        try:
            row["dept"] = org.by_name[row["department"]]
        except KeyError:
            raise CatalogSeedError(f"unknown department {row['department']}") from None
    return rows


@cache
def build_plan() -> Plan:
    """The whole demo catalog as plain data (deterministic; cached per process)."""
    rng = random.Random(SEED)  # noqa: S311 — demo data, not secrets
    org = _org()
    rows = _base_rows(org)
    prog = programme()
    dept_no = {row["code"]: i + 1 for i, row in enumerate(org.departments)}

    # Base codes, numbered within (department, type) in file order.
    seq: Counter = Counter()
    for row in rows:
        seq[(row["dept"], row["type"])] += 1
        n = seq[(row["dept"], row["type"])]
        if n > 99:
            raise CatalogSeedError("more than 99 items of one type in one department")
        row["base_code"] = f"{CITY_CODE}{row['type']}{dept_no[row['dept']]:02d}{n:02d}"

    _check_names({row["item_name"] for row in rows})
    town_lists = prog["town_items"]
    town_names = {n for n, _ in town_lists["no_meeting"] + town_lists["with_visits"]}
    accepted_by_towns = set(prog["town_acceptance_2020"]["items"])
    subs = _sub_items(rows, town_names | accepted_by_towns)
    _trim_licensing(rows, subs, FIGURES["licensing_items_total"])

    items: list[ItemPlan] = []
    by_name: dict[str, ItemPlan] = {}
    children: dict[str, list[ItemPlan]] = defaultdict(list)
    for row in rows:
        code = f"{row['base_code']}000"
        base = ItemPlan(
            code=code,
            base_code=row["base_code"],
            parent=None,
            business_kind="",
            item_type=row["type"],
            department=row["dept"],
            town=None,
            name=row["item_name"],
            base=row,
            has_subs=bool(subs[row["item_name"]]),
            depth=int(row["online_depth"]),
            visits=int(row["max_visits"]),
        )
        items.append(base)
        by_name[base.name] = base
        for i, (kind, label) in enumerate(subs[row["item_name"]], start=1):
            sub = ItemPlan(
                code=f"{code}{i:03d}",
                base_code=row["base_code"],
                parent=code,
                business_kind=kind,
                item_type=row["type"],
                department=row["dept"],
                town=None,
                name=f"{row['item_name']}（{label}）",
                base=row,
                depth=base.depth,
                visits=base.visits,
            )
            items.append(sub)
            children[base.name].append(sub)

    _allocate_full_online(items, FIGURES["licensing_items_full_online"])
    town_items = _town_items(org, by_name, FIGURES)
    items.extend(town_items)

    for name in prog["town_acceptance_2020"]["items"]:
        item = by_name[name]
        if item.has_subs or item.town:
            raise CatalogSeedError(f"{name}: town acceptance needs a city item without sub-items")
        item.town_acceptance = True
    _mark_high_frequency(prog["high_frequency"], by_name, children)
    _choose_mail(items, FIGURES["no_meeting_items_at_city_center"])

    powers, item_powers = _powers(rows, dept_no)
    for item in items:
        if item.town is None and item.item_type in POWER_TYPES:
            item.power = item_powers[item.base["item_name"]]

    everyday = {r["item_name"]: r for r in _read_csv(FIXTURES / "everyday.csv")}
    materials = _read_json("materials.json")
    faqs = _read_json("faqs.json")["items"]
    popular = set(everyday) | set(faqs) | set(prog["high_frequency"])
    department_names = {r["code"]: r for r in org.departments}
    for item in items:
        _fill_version(item, rng, everyday, org)
        item.materials = _materials(item, materials, with_forms=item.base["item_name"] in popular)
        item.steps = _steps(item, department_names, org)
        item.faqs = [tuple(qa) for qa in faqs.get(item.base["item_name"], [])]

    ledger = _ledger(powers, org, rng)
    supervision = _supervision(powers, dept_no)
    batch = dict(prog["town_acceptance_2020"])
    batch["effective_from"] = date.fromisoformat(batch["effective_from"])
    plan = Plan(items, powers, ledger, supervision, batch)
    counts = plan.counts()
    if counts != FIGURES:
        wrong = {k: (counts[k], FIGURES[k]) for k in FIGURES if counts[k] != FIGURES[k]}
        raise CatalogSeedError(f"the demo plan misses the published figures: {wrong}")
    return plan


def _check_names(known: set[str]) -> None:
    """Every item a data file names must be a base item (a typo would silently drop data)."""
    prog = programme()
    subitems = _read_json("subitems.json")
    named = {
        "everyday.csv": [r["item_name"] for r in _read_csv(FIXTURES / "everyday.csv")],
        "faqs.json": list(_read_json("faqs.json")["items"]),
        "subitems.json": [*subitems["items"], *subitems["none"]],
        "programme.json": [
            *(n for n, _s in prog["town_items"]["no_meeting"] + prog["town_items"]["with_visits"]),
            *prog["town_acceptance_2020"]["items"],
            *prog["high_frequency"],
            *prog["green_channel"],
        ],
    }
    unknown = {f: sorted(set(names) - known) for f, names in named.items()}
    unknown = {f: names for f, names in unknown.items() if names}
    if unknown:
        raise CatalogSeedError(f"unknown item names in the demo data: {unknown}")


# --- Sub-items ------------------------------------------------------------------------------


def _sub_items(rows: list[dict], keep_whole: set[str]) -> dict[str, list[tuple[str, str]]]:
    """业务办理项 of each base item: an explicit list, a family by keyword (licensing items),
    or the filing family for a 备案 named so — except items that towns implement or accept."""
    data = _read_json("subitems.json")
    families, rules, explicit = data["families"], data["rules"], data["items"]
    none = set(data["none"])
    out: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        name = row["item_name"]
        subs: list = []
        if name in keep_whole or name in none:
            subs = []
        elif name in explicit:
            subs = explicit[name]
        elif row["type"] == "01":
            if name in MARKET_ENTITY_ITEMS:
                subs = families["market_entity"]
            else:
                subs = next((families[f] for k, f in rules if k in name), [])
        elif row["type"] == "21" and name.endswith("备案"):
            subs = families["filing"]
        out[name] = [(kind, label) for kind, label in subs]
    return out


def _trim_licensing(rows: list[dict], subs: dict[str, list], target: int) -> None:
    """Bring the licensing entries to exactly ``target`` by dropping the last change/other
    sub-item of the base item with the most sub-items (new, renewal, cancellation and reissue
    stay)."""
    licensing = [r["item_name"] for r in rows if r["type"] == "01"]

    def total() -> int:
        return sum(max(1, len(subs[n])) for n in licensing)

    surplus = total() - target
    if surplus < 0:
        raise CatalogSeedError(f"only {total()} licensing entries, {target} wanted")
    order = {n: i for i, n in enumerate(licensing)}
    for _step in range(surplus):
        name = max(licensing, key=lambda n: (len(subs[n]), order[n]))
        current = subs[name]
        drop = max(
            (i for i, (kind, _label) in enumerate(current) if kind in ("change", "other")),
            default=len(current) - 1,
        )
        subs[name] = current[:drop] + current[drop + 1 :]
        if len(subs[name]) < 3:
            raise CatalogSeedError(f"trimming left {name} with too few sub-items")


def _allocate_full_online(items: list[ItemPlan], target: int) -> None:
    """Licensing entries are fully online (Ⅳ, 0 visits) except exactly ``len - target`` of
    them: a base item below Ⅳ keeps its depth for its "new" sub-items (and itself when it has
    none), its other sub-items (changes, renewals, cancellations, reissues) are fully online;
    the surplus is then moved online from the last items, one per base item kept."""
    licensing = [i for i in items if i.item_type == "01" and i.is_entry]
    for item in licensing:
        if item.parent is not None and item.business_kind != "new":
            item.depth, item.visits = 4, 0
    slow = [i for i in licensing if not (i.depth == 4 and i.visits == 0)]
    wanted = len(licensing) - target
    per_base: dict[str, list[ItemPlan]] = defaultdict(list)
    for item in slow:
        per_base[item.base_code].append(item)
    spare = [extra for group in per_base.values() for extra in group[1:]]
    if len(per_base) > wanted:
        raise CatalogSeedError("too many licensing items below Ⅳ for the full-online figure")
    excess = len(slow) - wanted
    if excess < 0 or excess > len(spare):
        raise CatalogSeedError("cannot reach the full-online figure")
    for item in spare[len(spare) - excess :]:
        item.depth, item.visits = 4, 0


def _town_items(org: _Org, by_name: dict, figures: dict) -> list[ItemPlan]:
    """Implementations by the streets' and towns' own departments: the no-meeting list (a
    bigger town implements one more of it, so that the total is exact) and the with-visit list
    in every town."""
    lists = programme()["town_items"]
    no_meeting_list = lists["no_meeting"]
    city_total = figures["no_meeting_items_at_city_center"]
    wanted = figures["no_meeting_items"] - city_total
    towns = org.towns
    per_town, extra = divmod(wanted, len(towns))
    if per_town + (1 if extra else 0) > len(no_meeting_list):
        raise CatalogSeedError("the town no-meeting list is too short")
    ranked = sorted(towns, key=lambda t: (-VILLAGE_COUNTS.get(t["code"], 0), t["code"]))
    bigger = {t["code"] for t in ranked[:extra]}
    out: list[ItemPlan] = []
    for town in towns:
        count = per_town + (1 if town["code"] in bigger else 0)
        chosen = [(n, s, True) for n, s in no_meeting_list[:count]]
        chosen += [(n, s, False) for n, s in lists["with_visits"]]
        for name, suffix, nm in chosen:
            base = by_name[name]
            row = base.base
            item = ItemPlan(
                code=f"{row['base_code']}{town['code'][-3:]}",
                base_code=row["base_code"],
                parent=None,
                business_kind="",
                item_type=row["type"],
                department=f"D-{town['code'][-3:]}-{suffix}",
                town=town["code"],
                name=name,
                base=row,
                depth=4 if nm else int(row["online_depth"]),
                visits=0 if nm else int(row["max_visits"]),
                mail=nm,
            )
            if nm and (row["online_depth"], row["max_visits"]) != ("4", "0"):
                raise CatalogSeedError(f"{name} is not handled with no visit")
            out.append(item)
    return out


def _mark_high_frequency(names: list[str], by_name: dict, children: dict) -> None:
    wanted = FIGURES["high_frequency_items"]
    marked = 0
    for name in names:
        base = by_name[name]
        for item in children.get(name) or [base]:
            if marked == wanted:
                return
            if item.town_acceptance:
                raise CatalogSeedError(f"{name} cannot be both high-frequency and any-town")
            item.high_frequency = True
            marked += 1
    if marked != wanted:
        raise CatalogSeedError("not enough high-frequency items")


def _choose_mail(items: list[ItemPlan], wanted: int) -> None:
    """Two-way free post (不见面审批) for exactly ``wanted`` city entries with no visit: first
    those that must go by post (no visit, not online), then high-frequency ones, then licences
    issued as a certificate (new, renewal, reissue), then the rest, by code."""
    candidates = [i for i in items if i.town is None and i.is_entry and i.visits == 0]

    def rank(item: ItemPlan) -> tuple:
        if item.depth < 2:
            group = 0
        elif item.high_frequency:
            group = 1
        elif item.item_type == "01" and item.business_kind in ("", "new", "renew", "reissue"):
            group = 2
        else:
            group = 3
        return (group, item.code)

    candidates.sort(key=rank)
    if sum(1 for i in candidates if i.depth < 2) > wanted or len(candidates) < wanted:
        raise CatalogSeedError("cannot reach the no-meeting figure of the city center")
    for item in candidates[:wanted]:
        item.mail = True


# --- Versions, materials, steps -------------------------------------------------------------


def _audience_filter(subject: str):
    def ok(code: str, personal: dict, business: dict) -> bool:
        if subject == "natural":
            return code in personal
        if subject == "legal":
            return code in business
        return code in personal or code in business

    return ok


def _classify(item: ItemPlan) -> tuple[list[str], list[str]]:
    themes, events = _classify_name(
        item.name, item.base["subject"], item.business_kind, item.base["dept"]
    )
    return list(themes), list(events)


@cache
def _theme_rules() -> tuple[dict, list[tuple[tuple[str, ...], list[str]]]]:
    data = _read_json("themes.json")
    return data, [(tuple(k.split("|")), codes) for k, codes in data["rules"]]


@cache
def _classify_name(name: str, subject_label: str, kind: str, department: str) -> tuple:
    data, rules = _theme_rules()
    subject = SUBJECTS[subject_label]
    ok = _audience_filter(subject)
    codes: list[str] = []
    for keywords, found in rules:
        if any(k in name for k in keywords):
            codes.extend(found)
    codes.extend(data["business_kinds"].get(kind, []))
    codes = list(dict.fromkeys(codes))
    themes = [c for c in codes if ok(c, PERSONAL_THEMES, BUSINESS_THEMES)][:3]
    events = [c for c in codes if ok(c, PERSONAL_LIFE_EVENTS, BUSINESS_LIFE_EVENTS)][:3]
    if not themes:
        defaults = data["departments"].get(department, [])
        themes = [c for c in defaults if ok(c, PERSONAL_THEMES, BUSINESS_THEMES)]
    if not themes:
        themes = ["b_other" if subject == "legal" else "p_other"]
    return tuple(themes), tuple(events)


def _result(item: ItemPlan) -> tuple[str, str]:
    name, kind, t = item.base["item_name"], item.business_kind, item.item_type
    if kind == "cancel":
        return "其他", "注销通知书"
    if name in MARKET_ENTITY_ITEMS:
        return "证照", "营业执照"
    if "许可证核发" in name:
        return "证照", name.split("核发")[0]
    if t == "01":
        if "执业" in name or "资格" in name or "驾驶" in name:
            return "证照", "执业（资格）证书"
        if "登记" in name or "证" in name:
            return "证照", f"{name}证明"
        return "批文", "准予行政许可决定书"
    if t == "21":
        return "其他", "备案回执"
    if t == "07":
        return "证明", "确认结果通知书"
    if t == "05":
        return "批文", "给付决定通知书"
    if "查询" in name or "证明" in name or "打印" in name:
        return "证明", "查询结果或证明文书"
    return "其他", "办理结果通知书"


def _fill_version(item: ItemPlan, rng: random.Random, everyday: dict, org: _Org) -> None:
    row = item.base
    subject = SUBJECTS[row["subject"]]
    green = programme()["green_channel"].get(row["item_name"])
    promised = int(row["promised_limit_days"])
    if green:
        promised = green["promised_limit_days"]
    legal = int(row["legal_limit_days"]) if row["legal_limit_days"] else None
    legal_note = ""
    if legal is None and item.item_type == "01":
        legal = max(20, promised)
        legal_note = "法律法规未单独规定，按《中华人民共和国行政许可法》第四十二条确定"
    if legal is not None and promised > legal:
        raise CatalogSeedError(f"{item.name}: promised limit over the legal one")
    immediate = promised == 0
    online = item.depth >= 2
    charges = row["fee"] != "不收费"
    result_type, result_name = _result(item)
    if item.visits == 0 and not item.mail:
        result_type = "电子证照" if result_type == "证照" else result_type
        result_name = f"{result_name}（电子）"
    bookable = item.visits > 0 and (
        item.town is not None or item.department in BOOKABLE_DEPARTMENTS or item.high_frequency
    )
    words = everyday.get(row["item_name"], {})
    chosen_themes, events = _classify(item)
    if item.town is not None:
        town = org.regions[item.town]["name"]
        conditions = f"户籍、居住地或经营场所在{town}的申请人，符合{row['basis']}规定的条件。"
        scope = ItemVersion.TongbanScope.TOWN
    else:
        who = "依法设立的法人或其他组织" if subject == "legal" else "具有完全民事行为能力的申请人"
        conditions = f"{who}，符合{row['basis']}规定的条件，申请材料齐全、符合法定形式。"
        scope = ItemVersion.TongbanScope.CITY if item.high_frequency or item.town_acceptance else ""
    item.version = {
        "name": item.name,
        "aliases": "\n".join(words["aliases"].split("|")) if words else "",
        "keywords": "\n".join(words["keywords"].split("|")) if words else "",
        "themes": chosen_themes,
        "life_events": events,
        "basis": row["basis"],
        "power_source": ItemVersion.PowerSource.STATUTORY,
        "exercise_level": ItemVersion.Level.TOWN if item.town else ItemVersion.Level.CITY,
        "implementer_nature": ItemVersion.ImplementerNature.STATUTORY_ORGAN,
        "subject": subject,
        "legal_limit_days": legal,
        "legal_limit_note": legal_note,
        "promised_limit_days": promised,
        "promised_limit_note": (
            green["note"]
            if green
            else "材料齐全、符合法定形式的，当场办结"
            if immediate
            else f"自受理之日起{promised}个工作日内办结（不含特别程序时间）"
        ),
        "case_kind": ItemVersion.CaseKind.IMMEDIATE if immediate else ItemVersion.CaseKind.PROMISED,
        "green_channel": bool(green),
        "conditions": conditions,
        "special_procedures": (
            "现场核查（所需时间不计入办理时限）" if item.item_type == "01" and item.visits else ""
        ),
        "handled_at_window": True,
        "handled_online": online,
        "handled_by_mail": item.mail,
        "online_depth": item.depth,
        "max_visits": item.visits,
        "in_hall": True,
        "tongban_scope": scope,
        "quantity_limit": "无数量限制",
        "result_type": result_type,
        "result_name": result_name[:200],
        "result_by_mail": item.mail,
        "materials_by_mail": item.mail,
        "self_service_terminal": any(
            k in item.name for k in ("查询", "打印", "证明", "社会保障卡")
        ),
        "appointment_supported": bookable,
        "appointment_daily_quota": rng.choice((40, 60, 80, 100, 150, 200)) if bookable else None,
        "online_payment": charges,
        "intermediary_service": "",
        "charges_fee": charges,
        "fee_items": row["fee"] if charges else "",
        "fee_basis": "国家和广东省价格、财政主管部门核定的收费标准" if charges else "",
        "fee_reduction": "符合条件的小微企业、困难群众按规定减免" if charges else "",
        "consultation": CONSULTATION,
        "complaint": COMPLAINT,
        "remedies": REMEDIES,
        "change_note": IMPORT_NOTE,
    }


def _material(spec: list, name: str) -> dict[str, Any]:
    title, kind, form, necessity, source, licence, copies = spec
    return {
        "name": title.replace("{name}", name)[:200],
        "kind": kind,
        "form": form,
        "necessity": necessity,
        "source": source,
        "licence_type": licence,
        "copies": copies,
        "standard": "原件核验，复印件须加盖公章或签名确认" if kind == "copy" else "",
    }


def _materials(item: ItemPlan, templates: dict, *, with_forms: bool) -> list[dict[str, Any]]:
    """3 to 6 materials; the application form of a popular item comes with a blank form and a
    filled-in sample (generic ones, per audience)."""
    subject = SUBJECTS[item.base["subject"]]
    specs = [templates["application_form"], *templates["subject"][subject]]
    form_name = item.base["item_name"]
    for keywords, found in templates["keywords"]:
        if any(k in item.name for k in keywords.split("|")):
            specs.extend(found)
            break
    if item.business_kind in templates["business_kinds"]:
        specs.append(templates["business_kinds"][item.business_kind])
    specs.append(templates["agent"])
    out: list[dict[str, Any]] = []
    for spec in specs:
        material = _material(spec, form_name)
        if all(m["name"] != material["name"] for m in out):
            out.append(material)
    if len(out) > 6:
        out = [m for m in out if m["necessity"] != "optional"][:6]
    for order, material in enumerate(out, start=1):
        material["order"] = order
    if with_forms:
        audience = "natural" if subject == "natural" else "legal"
        out[0]["blank_form"] = FORM_FILES[f"blank_application_{audience}.pdf"]
        out[0]["sample"] = FORM_FILES[f"sample_application_{audience}.pdf"]
    return out


def _split_days(promised: int) -> list[int]:
    """Days of 受理, 审核, 审批/决定, 办结, 送达 summing to the promised limit."""
    if promised == 0:
        return [0, 0, 0, 0, 0]
    accept = 1 if promised >= 5 else 0
    deliver = 1 if promised >= 4 else 0
    rest = promised - accept - deliver
    decide = max(1, rest // 3)
    return [accept, rest - decide, decide, 0, deliver]


def _steps(item: ItemPlan, departments: dict, org: _Org) -> list[dict[str, Any]]:
    promised = item.version["promised_limit_days"]
    if item.town is not None:
        town = org.regions[item.town]["name"]
        office = f"{town}政务服务中心综合窗口"
        suffix = item.department.rsplit("-", 1)[-1]
        back = next(f"{town}{name}" for code, name, _short in TOWN_DEPARTMENTS if code == suffix)
    else:
        short = departments[item.department]["short_name"]
        office = "东莞市民服务中心综合窗口"
        back = f"{short}行政审批科"
    if item.item_type == "01":
        days = _split_days(promised)
        spec = [
            ("accept", "受理", "window_clerk", office),
            ("review", "审核", "reviewer", back),
            ("decide", "审批", "approver", back),
            ("conclude", "办结", "approver", back),
            ("deliver", "送达", "window_clerk", office),
        ]
        return [
            {"order": n, "kind": k, "name": nm, "role": role, "office": off, "days": d}
            for n, ((k, nm, role, off), d) in enumerate(zip(spec, days, strict=True), start=1)
        ]
    review = promised - (1 if promised >= 2 else 0)
    return [
        {"order": 1, "kind": "accept", "name": "受理", "role": "window_clerk", "office": office,
         "days": 0},
        {"order": 2, "kind": "review", "name": "审核", "role": "reviewer", "office": back,
         "days": review},
        {"order": 3, "kind": "conclude", "name": "办结", "role": "approver", "office": back,
         "days": promised - review},
    ]  # fmt: skip


# --- Powers, ledger, supervision ------------------------------------------------------------


def _vocabulary() -> dict[str, dict]:
    return _read_json("supervision.json")["departments"]


def _powers(rows: list[dict], dept_no: dict[str, int]) -> tuple[list[PowerPlan], dict[str, str]]:
    """One power per city base item of the categories 01–10, then per supervised object an
    inspection power, its penalty powers and (where the department seizes goods) a coercion
    power; and the levies (行政征收) of ``supervision.json``, so that all ten categories occur."""
    seq: Counter = Counter()
    powers: list[PowerPlan] = []
    item_powers: dict[str, str] = {}

    def add(category: str, department: str, name: str, basis: str, kind: str, obj="") -> str:
        seq[(category, department)] += 1
        code = f"QL{category}{dept_no[department]:02d}{seq[(category, department)]:04d}"
        powers.append(PowerPlan(code, name[:200], category, department, basis, obj, kind))
        return code

    for row in rows:
        if row["type"] in POWER_TYPES:
            item_powers[row["item_name"]] = add(
                row["type"], row["dept"], row["item_name"], row["basis"], "item"
            )
    vocabulary = _read_json("supervision.json")
    for department, names in vocabulary["levies"].items():
        if department.startswith("D-"):
            for name in names:
                add("04", department, name, vocabulary["departments"][department]["basis"], "levy")
    for department, spec in _vocabulary().items():
        violations = spec["violations"]
        for i, (obj, _aspects) in enumerate(spec["objects"]):
            add("06", department, f"对{obj}的行政检查", spec["basis"], "inspection", obj)
            for k in range(min(3, len(violations))):
                violation = violations[(i + k) % len(violations)]
                add(
                    "02", department, f"对{obj}{violation}的行政处罚", spec["basis"], "penalty", obj
                )
            if spec.get("coercion"):
                name = f"对{obj}涉嫌违法财物的查封、扣押"
                add("03", department, name, spec["basis"], "coercion", obj)
    return powers, item_powers


def _body(region: dict[str, str]) -> str:
    if region["level"] == "functional_area":
        return f"{region['name']}管理委员会"
    if region["level"] == "street":
        return f"{region['name']}办事处"
    return f"{region['name']}人民政府"


def _ledger(powers: list[PowerPlan], org: _Org, rng: random.Random) -> list[LedgerPlan]:
    """785 delegations, each of a different power: 168 to the two functional areas (108 to
    松山湖, 60 to 水乡) from the development, land, construction and transport departments
    first (their approvals, then inspections and penalties), 617 to single streets and towns
    (inspections, penalties and coercive measures of every department in turn — the law
    enforcement moved to the towns — then approvals) in three batches; 99 of the town
    delegations of 2019 are recovered on 2020-07-01. Levies are never delegated."""
    by_department: dict[str, list[PowerPlan]] = defaultdict(list)
    for power in powers:
        by_department[power.department].append(power)
    preference = {"item": 0, "inspection": 1, "penalty": 2, "coercion": 3, "levy": 4}
    for group in by_department.values():
        group.sort(key=lambda p: (preference[p.kind], p.code))

    used: set[str] = set()
    ledger: list[LedgerPlan] = []
    fa_total = FIGURES["powers_delegated_to_functional_areas"]
    fa_powers: list[PowerPlan] = []
    queues = {
        d: [p for p in by_department[d] if p.kind != "levy"] for d in FUNCTIONAL_AREA_DEPARTMENTS
    }
    while len(fa_powers) < fa_total:
        progressed = False
        for department in FUNCTIONAL_AREA_DEPARTMENTS:
            if queues[department] and len(fa_powers) < fa_total:
                fa_powers.append(queues[department].pop(0))
                progressed = True
        if not progressed:
            raise CatalogSeedError("not enough powers for the functional areas")
    sx_total = FUNCTIONAL_AREAS["DG-FA-SX"]
    effective, document = FUNCTIONAL_AREA_BATCH
    for i, power in enumerate(fa_powers):
        to_sx = (i + 1) * sx_total // fa_total > i * sx_total // fa_total
        region = "DG-FA-SX" if to_sx else "DG-FA-SSH"
        used.add(power.code)
        ledger.append(
            LedgerPlan(
                power.code, "delegate", region, _body(org.regions[region]), effective,
                f"{document}（虚构）",
            )
        )  # fmt: skip

    # Towns: every department in turn (round robin), its remaining powers in order.
    town_preference = {"inspection": 0, "penalty": 1, "coercion": 2, "item": 3}
    queues = {
        d: sorted(
            (p for p in group if p.code not in used and p.kind in town_preference),
            key=lambda p: (town_preference[p.kind], p.code),
        )
        for d, group in sorted(by_department.items())
    }
    town_total = FIGURES["powers_delegated"] - fa_total
    chosen: list[PowerPlan] = []
    while len(chosen) < town_total:
        progressed = False
        for department in sorted(queues):
            if queues[department] and len(chosen) < town_total:
                chosen.append(queues[department].pop(0))
                progressed = True
        if not progressed:
            raise CatalogSeedError("not enough powers for the towns")
    if sum(n for _d, _doc, n in TOWN_BATCHES) != town_total:
        raise CatalogSeedError("the town batches do not add up")
    towns = org.towns
    start = 0
    town_entries: list[LedgerPlan] = []
    for effective, document, count in TOWN_BATCHES:
        for power in chosen[start : start + count]:
            town = rng.choice(towns)
            entry = LedgerPlan(
                power.code, "delegate", town["code"], _body(town), effective, f"{document}（虚构）"
            )
            town_entries.append(entry)
        start += count
    ledger.extend(town_entries)

    # Recoveries: every fifth delegation of the 2019 town batches, up to 99.
    effective, document = RECOVERY
    early = [e for e in town_entries if e.effective_from.year == 2019]
    recovered = early[::5][: FIGURES["powers_recovered"]]
    if len(recovered) != FIGURES["powers_recovered"]:
        raise CatalogSeedError("not enough delegations to recover")
    for entry in recovered:
        # A recovery has no receiving body (ledger.record_entry keeps it blank too).
        ledger.append(
            LedgerPlan(
                entry.power, "recover", entry.region, "", effective,
                f"{document}（虚构）", ends=entry.key,
            )
        )  # fmt: skip
    return ledger


class _NameIndex:
    """Kept normalized names, answering "is this name the same as or near a kept one?" by the
    rule of :mod:`tongban.catalog.supervision` (same; one containing the other, the shorter
    having at least 4 characters; or a SequenceMatcher ratio of at least 0.85), with cheap
    bounds first."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.by_length: dict[int, list[tuple[str, frozenset]]] = defaultdict(list)

    def near(self, norm: str) -> bool:
        for other in self.names:
            shorter, longer = (norm, other) if len(norm) <= len(other) else (other, norm)
            if shorter == longer or (len(shorter) >= MIN_CONTAINED_LENGTH and shorter in longer):
                return True
        size = len(norm)
        chars = frozenset(norm)
        repeated = size - len(chars)
        low = int(size * SIMILARITY_THRESHOLD / (2 - SIMILARITY_THRESHOLD))
        high = int(size * (2 - SIMILARITY_THRESHOLD) / SIMILARITY_THRESHOLD) + 1
        for length in range(low, high + 1):
            total = size + length
            if 2 * min(size, length) / total < SIMILARITY_THRESHOLD:
                continue
            for other, other_chars in self.by_length.get(length, ()):
                # An upper bound of the matching characters: shared distinct ones plus repeats.
                if 2 * (len(chars & other_chars) + repeated) / total < SIMILARITY_THRESHOLD:
                    continue
                matcher = SequenceMatcher(None, norm, other, autojunk=False)
                if matcher.ratio() >= SIMILARITY_THRESHOLD:
                    return True
        return False

    def add(self, norm: str) -> None:
        self.names.append(norm)
        self.by_length[len(norm)].append((norm, frozenset(norm)))


def _supervision(powers: list[PowerPlan], dept_no: dict[str, int]) -> list[SupervisionPlan]:
    """825 city-level supervision items: per department the candidates '对<object>的监督检查'
    for each object, then '对<object><aspect>的监督检查' with each object's first aspect, its
    second, ...; taken from every department in turn; a candidate is kept only when no kept
    name is the same or near (names stay unified)."""
    vocabulary = _vocabulary()
    by_object: dict[tuple[str, str], list[str]] = defaultdict(list)
    for power in powers:
        if power.object:
            by_object[(power.department, power.object)].append(power.code)
    candidates: dict[str, list[tuple[str, str]]] = {}
    for department, spec in vocabulary.items():
        objects = spec["objects"]
        rows = [(obj, f"对{obj}的监督检查") for obj, _aspects in objects]
        for k in range(max(len(aspects) for _obj, aspects in objects)):
            rows.extend(
                (obj, f"对{obj}{aspects[k]}的监督检查")
                for obj, aspects in objects
                if k < len(aspects)
            )
        candidates[department] = rows
    wanted = FIGURES["supervision_items"]
    kept: list[SupervisionPlan] = []
    names = _NameIndex()
    seq: Counter = Counter()
    depth = max(len(c) for c in candidates.values())
    for i in range(depth):
        for department in vocabulary:
            if len(kept) == wanted:
                break
            if i >= len(candidates[department]):
                continue
            obj, name = candidates[department][i]
            norm = normalize_name(name)
            if names.near(norm):
                continue
            spec = vocabulary[department]
            seq[department] += 1
            code = f"JG{CITY_CODE}{dept_no[department]:02d}{seq[department]:03d}"
            names.add(norm)
            kept.append(
                SupervisionPlan(
                    code, name, department, spec["basis"], spec["measures"], obj,
                    by_object[(department, obj)],
                )
            )  # fmt: skip
    if len(kept) != wanted:
        raise CatalogSeedError(f"only {len(kept)} supervision items, {wanted} wanted")
    return kept


# --------------------------------------------------------------------------------------------
# Writing


@dataclass
class CatalogSeedResult:
    profile: str
    created: Counter = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(+self.created)


PROFILES = ("dongguan",)


def seed(profile: str = "dongguan", *, index: bool = True) -> CatalogSeedResult:
    """Build (or complete) the demo catalog of ``profile`` after the organization seed.
    ``index=False`` skips rebuilding the search index."""
    if profile not in PROFILES:
        raise CatalogSeedError(_("未知的演示数据配置：%(p)s。") % {"p": profile})
    result = CatalogSeedResult(profile=profile)
    started = time.perf_counter()
    plan = build_plan()
    result.seconds["plan"] = time.perf_counter() - started
    cpu = time.process_time()
    with transaction.atomic():
        _write(plan, result)
        if result.changed:
            audit.record(
                "catalog.demo_seeded",
                actor_label="seed_demo",
                target_type="catalog.catalog",
                target_id=profile,
                data={"created": dict(result.created)},
            )
    result.seconds["write"] = time.perf_counter() - started - result.seconds["plan"]
    result.seconds["write_cpu"] = time.process_time() - cpu
    if index and (result.created["items"] or result.created["versions"]):
        started_index = time.perf_counter()
        from . import search

        search.rebuild_index()
        result.seconds["index"] = time.perf_counter() - started_index
    result.totals = {
        "items": ServiceItem.objects.count(),
        "entries": entries().count(),
        "powers": Power.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "supervision": SupervisionItem.objects.count(),
    }
    return result


def _write(plan: Plan, result: CatalogSeedResult) -> None:
    departments = {d.code: d for d in Department.objects.all()}
    regions = {r.code: r for r in Region.objects.all()}
    missing = {i.department for i in plan.items} - set(departments)
    missing |= {e.region for e in plan.ledger} - set(regions)
    if missing:
        raise CatalogSeedError(
            _("请先生成组织机构演示数据（区划、部门），缺少：%(codes)s。")
            % {"codes": "、".join(sorted(missing)[:10])}
        )
    _store_form_files(result)
    powers = _write_powers(plan, departments, result)
    items = _write_items(plan, departments, powers, result)
    _write_acceptance(plan, items, result)
    _write_ledger(plan, powers, regions, result)
    _register_receiving_bodies(plan, regions)
    _write_supervision(plan, departments, powers, result)


def _store_form_files(result: CatalogSeedResult) -> None:
    """Put the demo's blank forms and samples into the media storage unless already there."""
    for source, name in FORM_FILES.items():
        if not default_storage.exists(name):
            with (FIXTURES / "forms" / source).open("rb") as f:
                default_storage.save(name, File(f))
            result.created["form_files"] += 1


def _write_powers(plan: Plan, departments: dict, result: CatalogSeedResult) -> dict[str, int]:
    existing = dict(Power.objects.values_list("code", "pk"))
    new = [
        Power(
            code=p.code,
            name=p.name,
            category=p.category,
            department=departments[p.department],
            level=ItemVersion.Level.CITY,
            basis=p.basis,
            active=True,
        )
        for p in plan.powers
        if p.code not in existing
    ]
    Power.objects.bulk_create(new, batch_size=500)
    result.created["powers"] += len(new)
    return dict(Power.objects.values_list("code", "pk")) if new else existing


def _write_items(
    plan: Plan, departments: dict, powers: dict[str, int], result: CatalogSeedResult
) -> dict[str, int]:
    existing = dict(ServiceItem.objects.values_list("code", "pk"))
    for parents in (True, False):
        new = [
            ServiceItem(
                code=i.code,
                base_code=i.base_code,
                parent_id=existing[i.parent] if i.parent else None,
                business_kind=i.business_kind,
                item_type=i.item_type,
                department=departments[i.department],
                power_id=powers[i.power] if i.power else None,
                status=ServiceItem.Status.IN_USE,
                high_frequency=i.high_frequency,
            )
            for i in plan.items
            if (i.parent is None) == parents and i.code not in existing
        ]
        ServiceItem.objects.bulk_create(new, batch_size=500)
        result.created["items"] += len(new)
        if new:
            existing = dict(ServiceItem.objects.values_list("code", "pk"))

    versioned = set(ItemVersion.objects.values_list("item_id", flat=True).distinct())
    todo = [i for i in plan.items if existing[i.code] not in versioned]
    if not todo:
        return existing
    versions = [
        ItemVersion(
            item_id=existing[i.code],
            number=1,
            state=ItemVersion.State.PUBLISHED,
            published_at=PUBLISHED_AT,
            **i.version,
        )
        for i in todo
    ]
    ItemVersion.objects.bulk_create(versions, batch_size=300)
    result.created["versions"] += len(versions)
    by_item = dict(ItemVersion.objects.filter(number=1).values_list("item_id", "pk"))
    materials, steps, faqs = [], [], []
    for i in todo:
        version_id = by_item[existing[i.code]]
        materials.extend(Material(version_id=version_id, **m) for m in i.materials)
        steps.extend(ProcessStep(version_id=version_id, **s) for s in i.steps)
        faqs.extend(
            Faq(version_id=version_id, order=n, question=q, answer=a)
            for n, (q, a) in enumerate(i.faqs, start=1)
        )
    Material.objects.bulk_create(materials, batch_size=1000)
    ProcessStep.objects.bulk_create(steps, batch_size=1000)
    Faq.objects.bulk_create(faqs, batch_size=500)
    result.created["materials"] += len(materials)
    result.created["steps"] += len(steps)
    result.created["faqs"] += len(faqs)
    first = ItemVersion.objects.filter(item=OuterRef("pk"), number=1, state="published")
    ServiceItem.objects.filter(Exists(first), published_version__isnull=True).update(
        published_version=Subquery(first.values("pk")[:1])
    )
    return existing


def _write_acceptance(plan: Plan, items: dict[str, int], result: CatalogSeedResult) -> None:
    spec = plan.batch
    batch = AcceptanceBatch.objects.filter(document_no=spec["document_no"]).first()
    if batch is None:
        batch = AcceptanceBatch.objects.create(
            document_no=spec["document_no"],
            title=spec["title"],
            scope=AcceptanceScope.ANY_TOWN,
            effective_from=spec["effective_from"],
        )
        result.created["acceptance_batches"] += 1
    existing = set(AcceptanceRule.objects.values_list("item_id", "effective_from"))
    rules = []
    for i in plan.items:
        item_id = items[i.code]
        if (item_id, INITIAL_SCOPE_FROM) not in existing:
            rules.append(
                AcceptanceRule(item_id=item_id, scope=i.scope, effective_from=INITIAL_SCOPE_FROM)
            )
        if i.town_acceptance and (item_id, batch.effective_from) not in existing:
            rules.append(
                AcceptanceRule(
                    item_id=item_id,
                    scope=batch.scope,
                    effective_from=batch.effective_from,
                    batch=batch,
                    document_no=batch.document_no,
                )
            )
    AcceptanceRule.objects.bulk_create(rules, batch_size=1000)
    result.created["acceptance_rules"] += len(rules)


def _write_ledger(
    plan: Plan, powers: dict[str, int], regions: dict, result: CatalogSeedResult
) -> None:
    code_of = {pk: code for code, pk in powers.items()}
    region_code = {r.pk: code for code, r in regions.items()}

    def index() -> dict[tuple, int]:
        return {
            (code_of[p], action, region_code[r], d): pk
            for pk, p, action, r, d in LedgerEntry.objects.values_list(
                "pk", "power_id", "action", "region_id", "effective_from"
            )
        }

    existing = index()
    for recover in (False, True):
        new = [
            LedgerEntry(
                power_id=powers[e.power],
                action=e.action,
                region=regions[e.region],
                receiving_body=e.receiving_body,
                effective_from=e.effective_from,
                document_no=e.document_no,
                note=INVENTED_NOTE,
                ends_id=existing[e.ends] if e.ends else None,
            )
            for e in plan.ledger
            if (e.action == "recover") == recover and e.key not in existing
        ]
        LedgerEntry.objects.bulk_create(new, batch_size=500)
        result.created["ledger"] += len(new)
        if new:
            existing = index()


def _register_receiving_bodies(plan: Plan, regions: dict) -> None:
    """Every body that receives a delegated power is a department cases can be routed to
    (cases/services.resolve_department): a town's 人民政府, a street's 办事处, a functional area's
    管理委员会. Created once, named exactly as the ledger names them."""
    from tongban.org.models import Department

    known = set(Department.objects.values_list("name", flat=True))
    wanted = sorted({(e.receiving_body, e.region) for e in plan.ledger if e.receiving_body})
    new, used = [], set(Department.objects.values_list("code", flat=True))
    for body, region_code in wanted:
        if body in known:
            continue
        region = regions[region_code]
        code = f"D-{region.code}-ZF"
        n = 1
        while code in used:
            n += 1
            code = f"D-{region.code}-ZF{n}"
        used.add(code)
        known.add(body)
        new.append(
            Department(
                code=code,
                name=body,
                short_name=body[:40],
                level=Department.Level.TOWN,
                region=region,
            )
        )
    Department.objects.bulk_create(new)


def _write_supervision(
    plan: Plan, departments: dict, powers: dict[str, int], result: CatalogSeedResult
) -> None:
    existing = set(SupervisionItem.objects.values_list("code", flat=True))
    todo = [s for s in plan.supervision if s.code not in existing]
    SupervisionItem.objects.bulk_create(
        [
            SupervisionItem(
                code=s.code,
                name=s.name,
                normalized_name=normalize_name(s.name),
                department=departments[s.department],
                level=ItemVersion.Level.CITY,
                basis=s.basis,
                measures=s.measures,
                object=s.object,
                active=True,
            )
            for s in todo
        ],
        batch_size=500,
    )
    result.created["supervision"] += len(todo)
    if not todo:
        return
    ids = dict(
        SupervisionItem.objects.filter(code__in=[s.code for s in todo]).values_list("code", "pk")
    )
    through = SupervisionItem.powers.through
    links = [
        through(supervisionitem_id=ids[s.code], power_id=powers[p]) for s in todo for p in s.powers
    ]
    through.objects.bulk_create(links, batch_size=1000)
    result.created["supervision_powers"] += len(links)
