"""No N+1 anywhere in /api/v1/: every endpoint that lists rows answers with the same number of
SQL queries whether it lists a few rows or many.

Each ``Listing`` names an endpoint, the caller (a role whose data scope covers the rows) and how
to add rows the answer lists. The test adds FEW rows, calls the endpoint once to warm it (the
token, caches), counts the queries of a second call, adds rows up to MANY and counts again:
the answer must list MANY - FEW more rows (so the test can fail) with the same number of
queries. Besides the paginated lists (``{items, count}``) this covers the plain lists (versions,
acceptance rules, the ledger, similar supervision items), the catalog export, and the detail
answers that embed a list of rows (a case's files and events, sub-items, linked items,
windows, accepting centers, linked powers, the caller's assignments). The /worklist endpoints
have their own test (tests/cases/test_worklist_api.py).
"""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.cases.factories import FORM, upload
from tests.cases.test_api_support import api, give_licence, media, paper_case  # noqa: F401
from tests.catalog.factories import make_item, version_defaults
from tests.factories import World, assign
from tongban.cases import services as case_services
from tongban.cases.models import Case
from tongban.catalog import acceptance, exchange, ledger, supervision
from tongban.catalog.models import (
    AcceptanceBatch,
    ImportJob,
    ItemVersion,
    LedgerEntry,
    Power,
    ServiceItem,
    SupervisionItem,
)
from tongban.notify import services as notify_services
from tongban.notify.models import WebhookDelivery, WebhookSubscription
from tongban.org.hours import VILLAGE_HOURS
from tongban.org.models import Department, Region, ServiceCenter, Window
from tongban.org.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

FEW, MANY = 2, 10

# The rows some listings hang from, found again by these codes when more rows are added.
ITEM = "11441900QC0000000001"
POWER = "P-QC-PARENT"
SUPERVISION = "JG-QC-PARENT"


# ============================================================================ building rows


def _item(world: World) -> ServiceItem:
    """A published citywide item of the market department (every center accepts it)."""
    found = ServiceItem.objects.filter(code=ITEM).first()
    return found or make_item(
        world, "食品经营许可", code=ITEM, scope="citywide", department=world.market_dept
    )


def _power(world: World) -> Power:
    found = Power.objects.filter(code=POWER).first()
    return found or Power.objects.create(
        code=POWER, name="食品经营许可", category="01", department=world.market_dept
    )


def _citizen_case(world: World) -> Case:
    """One case of the citizen, for licences and messages that name a case."""
    found = Case.objects.filter(applicant__user=world.user("citizen")).first()
    return found or paper_case(world, _item(world), "city_clerk", "citizen")


def add_cases(world: World, n: int) -> None:
    """Accepted window cases of the citizen at the city center (the market department's): the
    clerk, the center administrator, the reviewer, the supervisor and the citizen see them."""
    clerk = world.user("city_clerk")
    for _ in range(n):
        case = paper_case(world, _item(world), "city_clerk", "citizen")
        case_services.accept(case, clerk)


def _draft(world: World) -> Case:
    """A web draft of the enterprise at the city center."""
    user = world.user("enterprise")
    found = Case.objects.filter(applicant__user=user).first()
    return found or case_services.start_case(
        item=_item(world), by=user, channel="web", center=world.city_center, form=FORM
    )


def draft_url() -> str:
    return f"/cases/{Case.objects.get(applicant__user__username='enterprise').number}"


def add_case_materials(world: World, n: int) -> None:
    """Files on the enterprise's draft, in turn: an electronic licence for 营业执照, an upload
    for 申请表, an extra upload that answers no checklist entry (each step is an event too)."""
    case, user = _draft(world), world.user("enterprise")
    materials = {m.name: m.pk for m in case.version.materials.all()}
    for _ in range(n):
        k = case.materials.count()
        if k % 3 == 0:
            licence = give_licence(world, "enterprise")
            case_services.attach_licence(
                case, user, material_id=materials["营业执照"], licence_id=licence.pk
            )
        else:
            material = materials["申请表"] if k % 3 == 1 else None
            case_services.add_upload(case, user, material_id=material, upload=upload(f"{k}.pdf"))


def case_files(body: dict) -> int:
    return sum(len(m["provided"]) for m in body["materials"]) + len(body["extra_materials"])


def add_licences(world: World, n: int) -> None:
    case = _citizen_case(world)
    for _ in range(n):
        give_licence(world, "citizen", case=case)


def add_notifications(world: World, n: int) -> None:
    case = _citizen_case(world)
    for i in range(n):
        notify_services.send(
            kind="test", subject=f"消息{i}", body="内容", user=world.user("citizen"), case=case
        )


def add_webhook_deliveries(world: World, n: int) -> None:
    """Deliveries of the citizen's case to the systems of both city departments (a new system
    every other row), every other one a re-send of the one before it."""
    case = _citizen_case(world)
    previous = WebhookDelivery.objects.order_by("-pk").first()
    for _ in range(n):
        k = WebhookDelivery.objects.count() + 1
        subscription = WebhookSubscription.objects.create(
            department=world.market_dept if k % 2 else world.health_dept,
            name=f"业务系统{k}",
            url=f"https://system{k}.example.test/hook",
            secret="s" * 64,
        )
        previous = WebhookDelivery.objects.create(
            subscription=subscription,
            uid=f"00000000-0000-4000-8000-{k:012d}",
            event="case.accept",
            case=case,
            body="{}",
            next_attempt_at=timezone.now(),
            resent_from=previous if k % 2 == 0 else None,
        )


def add_items(world: World, n: int) -> None:
    """Published items, sub-items of one base item (the row shows its parent)."""
    base = _item(world)
    for _ in range(n):
        make_item(world, "第一类医疗器械生产备案", parent=base, department=world.health_dept)


def add_versions(world: World, n: int) -> None:
    """Retired versions of the item, each written, submitted and approved by someone."""
    item = _item(world)
    people = [world.user("catalog_admin"), world.user("supervisor"), world.user("auditor")]
    now = timezone.now()
    for _ in range(n):
        number = item.versions.count() + 1
        ItemVersion.objects.create(
            item=item,
            number=number,
            state=ItemVersion.State.RETIRED,
            created_by=people[number % 3],
            submitted_by=people[(number + 1) % 3],
            approved_by=people[(number + 2) % 3],
            published_at=now,
            retired_at=now,
            **version_defaults(name=f"食品经营许可（第{number}版）"),
        )


def add_acceptance_batches(world: World, n: int) -> None:
    """Acceptance decisions of the item (one rule each, on days of their own)."""
    item = _item(world)
    for _ in range(n):
        k = AcceptanceBatch.objects.count() + 1
        acceptance.delegate_acceptance(
            [item],
            "any_town",
            f"东府〔2020〕{k}号",
            dt.date(2020, 1, 1) + dt.timedelta(days=k),
            world.user("catalog_admin"),
            title=f"就近办第{k}批",
        )


def add_imports(world: World, n: int) -> None:
    for _ in range(n):
        k = ImportJob.objects.count() + 1
        ImportJob.objects.create(
            kind=ImportJob.Kind.ITEMS,
            original_name=f"事项{k}.xlsx",
            status=ImportJob.Status.DONE,
            total_rows=3,
            processed_rows=3,
            created_by=world.user("catalog_admin"),
            finished_at=timezone.now(),
        )


def add_powers(world: World, n: int) -> None:
    """Powers of both city departments, each delegated to a town once (for the export)."""
    for _ in range(n):
        k = Power.objects.count() + 1
        power = Power.objects.create(
            code=f"P-QC-{k:03d}",
            name=f"行政许可{k}",
            category="01",
            department=world.market_dept if k % 2 else world.health_dept,
        )
        ledger.record_entry(power, "delegate", world.town, dt.date(2020, 1, 1), f"东府〔{k}〕号")


def add_ledger_entries(world: World, n: int) -> None:
    """Alternately delegate the power to a region on 1 January and recover it on 1 July of a
    year of its own (a recovery ``ends`` the entry before it)."""
    power = _power(world)
    regions = [world.town, world.street, world.other_town, world.functional_area]
    for _ in range(n):
        k = LedgerEntry.objects.filter(power=power).count()
        year, region = 2001 + k // 2, regions[(k // 2) % len(regions)]
        if k % 2 == 0:
            on, action, document = dt.date(year, 1, 1), "delegate", f"东府〔{year}〕1号"
        else:
            on, action, document = dt.date(year, 7, 1), "recover", f"东府〔{year}〕2号"
        ledger.record_entry(power, action, region, on, document)


def add_supervision_items(world: World, n: int) -> None:
    """Supervision items named near one another ("第k类食品经营者监督检查"), linked to a power."""
    power = _power(world)
    for _ in range(n):
        k = SupervisionItem.objects.count() + 1
        supervision.create_supervision_item(
            code=f"JG-QC-{k:03d}",
            name=f"对第{k}类食品经营者的监督检查",
            department=world.market_dept if k % 2 else world.health_dept,
            powers=[power],
            confirm_similar=True,
        )


def add_regions(world: World, n: int) -> None:
    """Towns of the city inside the functional area (the row shows both)."""
    for _ in range(n):
        k = Region.objects.count() + 1
        Region.objects.create(
            code=f"441900{200 + k}",
            name=f"测试镇{k}",
            level="town",
            parent=world.city,
            functional_area=world.functional_area,
        )


def add_centers(world: World, n: int) -> None:
    """Village points in the village, each with a window."""
    for _ in range(n):
        k = ServiceCenter.objects.count() + 1
        center = ServiceCenter.objects.create(
            code=f"SC-QC-{k:03d}",
            name=f"测试服务点{k}",
            level="village",
            region=world.village,
            opening_hours=VILLAGE_HOURS,
        )
        Window.objects.create(center=center, number="1", kind="comprehensive")


def add_accepting_centers(world: World, n: int) -> None:
    """Village points, which accept the citywide item."""
    _item(world)
    add_centers(world, n)


def add_departments(world: World, n: int) -> None:
    for _ in range(n):
        k = Department.objects.count() + 1
        Department.objects.create(
            code=f"D-QC-{k:03d}",
            name=f"大朗镇测试办公室{k}",
            short_name=f"测试办{k}",
            level="town",
            region=world.town,
        )


def add_windows(world: World, n: int) -> None:
    """Department windows at the city center."""
    for _ in range(n):
        k = world.city_center.windows.count() + 1
        Window.objects.create(
            center=world.city_center,
            number=str(100 + k),
            kind="department",
            department=world.market_dept if k % 2 else world.health_dept,
        )


def add_linked_to_power(world: World, n: int) -> None:
    """Per row: a service item implementing the power and a supervision item linked to it."""
    power = _power(world)
    for _ in range(n):
        make_item(world, "食品经营许可（分项）", power=power)
    add_supervision_items(world, n)


def add_powers_to_supervision_item(world: World, n: int) -> None:
    item = SupervisionItem.objects.filter(code=SUPERVISION).first()
    if item is None:
        item = supervision.create_supervision_item(
            code=SUPERVISION, name="对药品零售企业的监督检查", department=world.market_dept
        )
    for _ in range(n):
        k = Power.objects.count() + 1
        item.powers.add(
            Power.objects.create(
                code=f"P-QC-{k:03d}", name=f"行政检查{k}", category="05", department=item.department
            )
        )


def add_assignments(world: World, n: int) -> None:
    """More posts of the reviewer, each in a department of its own."""
    add_departments(world, n)
    for department in Department.objects.filter(code__startswith="D-QC-").exclude(
        staff__user=world.user("reviewer")
    ):
        assign(world.user("reviewer"), Role.REVIEWER, department=department)


# ============================================================================ counting rows


def paged(body: dict) -> int:
    """A ``{items, count}`` page: every row on this page (the tests stay below the limit)."""
    assert len(body["items"]) == body["count"], "the rows do not fit on one page"
    return body["count"]


def listed(body: list) -> int:
    return len(body)


def under(key: str) -> Callable[[dict], int]:
    return lambda body: len(body[key])


def csv_rows(slug: str) -> Callable[[bytes], int]:
    """Data rows of the export's sheet ``slug`` (a .csv, or a member of the .zip)."""

    def count(content: bytes) -> int:
        if content[:2] == b"PK":
            content = zipfile.ZipFile(io.BytesIO(content)).read(f"{slug}.csv")
        return len(list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))) - 1

    return count


# ============================================================================ the listings


@dataclass(frozen=True)
class Listing:
    id: str
    url: str | Callable[[], str]  # a callable for a URL known once the rows exist
    add: Callable[[World, int], None]
    rows: Callable[[Any], int] = paged
    as_: str | None = None  # None: anonymous (a public endpoint)
    file: bool = False  # the answer is a download, not JSON


LISTINGS = [
    # cases/api.py
    Listing("cases-clerk", "/cases?limit=50", add_cases, as_="city_clerk"),
    Listing("cases-center-admin", "/cases?limit=50", add_cases, as_="center_admin"),
    Listing("cases-reviewer", "/cases?limit=50", add_cases, as_="reviewer"),
    Listing("cases-supervisor", "/cases?limit=50", add_cases, as_="supervisor"),
    Listing("cases-citizen", "/cases?limit=50", add_cases, as_="citizen"),
    Listing("case-materials", draft_url, add_case_materials, case_files, as_="enterprise"),
    Listing("licences", "/licences?limit=50", add_licences, as_="citizen"),
    Listing("notifications", "/notifications?limit=50", add_notifications, as_="citizen"),
    # notify/api.py
    Listing(
        "webhook-deliveries",
        "/webhook-deliveries?limit=50",
        add_webhook_deliveries,
        as_="catalog_admin",
    ),
    Listing(
        "webhook-deliveries-supervisor",
        "/webhook-deliveries?limit=50",
        add_webhook_deliveries,
        as_="supervisor",
    ),
    # catalog/api.py
    Listing("items", "/items?limit=50", add_items),
    Listing("items-search", "/items?" + urlencode({"q": "医疗器械", "limit": 50}), add_items),
    Listing("item-sub-items", f"/items/{ITEM}", add_items, under("sub_items")),
    Listing("item-versions", f"/items/{ITEM}/versions", add_versions, listed),
    Listing(
        "item-versions-manager",
        f"/items/{ITEM}/versions",
        add_versions,
        listed,
        as_="catalog_admin",
    ),
    Listing("item-acceptance", f"/items/{ITEM}/acceptance", add_acceptance_batches, listed),
    Listing(
        "item-guide", f"/items/{ITEM}/guide", add_accepting_centers, under("accepting_centers")
    ),
    Listing("acceptance-batches", "/acceptance-batches?limit=50", add_acceptance_batches),
    # catalog/api_exchange.py
    Listing("imports", "/catalog/imports?limit=50", add_imports, as_="catalog_admin"),
    Listing(
        "export-items",
        "/catalog/export?kind=items&format=csv",
        add_items,
        csv_rows(exchange.ITEM_SHEET.slug),
        as_="catalog_admin",
        file=True,
    ),
    Listing(
        "export-powers",
        "/catalog/export?kind=powers&format=csv",
        add_powers,
        csv_rows(exchange.POWER_SHEET.slug),
        as_="catalog_admin",
        file=True,
    ),
    Listing(
        "export-supervision",
        "/catalog/export?kind=supervision&format=csv",
        add_supervision_items,
        csv_rows(exchange.SUPERVISION_SHEET.slug),
        as_="catalog_admin",
        file=True,
    ),
    # catalog/api_powers.py
    Listing("powers", "/powers?limit=50", add_powers),
    Listing("power-linked", f"/powers/{POWER}", add_linked_to_power, under("items")),
    Listing("power-ledger", f"/powers/{POWER}/ledger", add_ledger_entries, under("entries")),
    Listing("supervision-items", "/supervision-items?limit=50", add_supervision_items),
    Listing(
        "supervision-similar",
        "/supervision-items/similar?" + urlencode({"name": "食品经营者监督检查"}),
        add_supervision_items,
        under("similar"),
    ),
    Listing(
        "supervision-item-powers",
        f"/supervision-items/{SUPERVISION}",
        add_powers_to_supervision_item,
        under("powers"),
    ),
    # org/api.py
    Listing("regions", "/regions?limit=50", add_regions),
    Listing("centers", "/centers?limit=50", add_centers),
    Listing("center-windows", "/centers/SC441900", add_windows, under("windows")),
    Listing("departments", "/departments?limit=50", add_departments),
    # accounts/api.py
    Listing("me-assignments", "/auth/me", add_assignments, under("assignments"), as_="reviewer"),
]


# ============================================================================ the test


def _measure(api, listing: Listing) -> tuple[int, list[str]]:
    """The rows the endpoint lists and the SQL of one (warm) call."""
    url = listing.url() if callable(listing.url) else listing.url
    api.get(url, as_=listing.as_)  # the token, caches: warm
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, as_=listing.as_)
    assert response.status_code == 200, response.content[:500]
    body = response.content if listing.file else response.json()
    return listing.rows(body), [q["sql"] for q in queries.captured_queries]


def _shape(sql: str) -> str:
    """The query without its values, so that one query per row shows as one shape."""
    return re.sub(r"\b\d+\b", "?", re.sub(r"'[^']*'", "?", sql))


def _extra(few: list[str], many: list[str]) -> str:
    """The shapes of query the larger list ran more often than the smaller one."""
    more = Counter(map(_shape, many)) - Counter(map(_shape, few))
    return "\n".join(f"{n}× {sql}" for sql, n in more.most_common(5))


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.id)
def test_the_query_count_does_not_grow_with_the_rows(api, world, listing, settings):
    settings.WORKDAYS_VERSION_CHECK_SECONDS = 3600  # no calendar re-check between the calls
    listing.add(world, FEW)
    few_rows, few = _measure(api, listing)
    listing.add(world, MANY - FEW)
    many_rows, many = _measure(api, listing)
    assert few_rows >= FEW
    assert many_rows - few_rows == MANY - FEW, (few_rows, many_rows)
    few_queries, many_queries = len(few), len(many)
    assert few_queries == many_queries, (
        f"{few_queries} queries for {few_rows} rows, {many_queries} for {many_rows}; "
        f"run more often:\n{_extra(few, many)}"
    )
