"""Helpers shared by the case API tests (tests/cases/test_api*.py); no tests of its own.

``scoped_cases(world)`` builds the cases of the scope matrix: one at the city center for each
city department, one at the town center, one at the village point and one filed by the agent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from tests.cases.factories import FORM, pdf_bytes, upload
from tests.catalog.factories import make_item
from tests.conftest import bearer
from tongban.accounts.models import Applicant
from tongban.cases import services
from tongban.cases.models import Case
from tongban.registry.models import Licence

JSON = "application/json"
API = "/api/v1"

ROLES = (
    "citizen",
    "enterprise",
    "city_clerk",
    "town_clerk",
    "village_clerk",
    "reviewer",
    "approver",
    "center_admin",
    "town_admin",
    "agent",
    "catalog_admin",
    "supervisor",
    "auditor",
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


class Api:
    """The Django test client with a bearer token per user (fetched once per test)."""

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, dict[str, str]] = {}

    def auth(self, username: str | None) -> dict[str, str]:
        if username is None:
            return {}
        if username not in self.tokens:
            self.tokens[username] = bearer(self.client, username)
        return self.tokens[username]

    def get(self, url: str, as_: str | None = None, **extra):
        return self.client.get(API + url, **self.auth(as_), **extra)

    def post(self, url: str, data=None, as_: str | None = None, **extra):
        return self.client.post(
            API + url,
            data if data is not None else {},
            content_type=JSON,
            **self.auth(as_),
            **extra,
        )

    def patch(self, url: str, data, as_: str | None = None, **extra):
        return self.client.patch(API + url, data, content_type=JSON, **self.auth(as_), **extra)

    def delete(self, url: str, as_: str | None = None, **extra):
        return self.client.delete(API + url, **self.auth(as_), **extra)

    def upload(self, url: str, data: dict, as_: str | None = None, **extra):
        """A multipart POST (the client encodes dicts with files as multipart)."""
        return self.client.post(API + url, data, **self.auth(as_), **extra)


@pytest.fixture
def api(client):
    return Api(client)


def applicant(world, key: str) -> Applicant:
    return Applicant.objects.get(user=world.user(key))


def give_licence(world, key: str, licence_type: str = "营业执照", **fields) -> Licence:
    defaults = {
        "number": f"L-{key}-{Licence.objects.count() + 1}",
        "issuer": "东莞市市场监督管理局",
        "issued_on": dt.date(2024, 1, 1),
    }
    defaults.update(fields)
    return Licence.objects.create(
        holder=applicant(world, key), licence_type=licence_type, **defaults
    )


def paper_case(world, item, clerk_key: str, applicant_key: str, *, received: bool = True) -> Case:
    """A window case at the clerk's center; the clerk ticks the required originals."""
    clerk = world.user(clerk_key)
    case = services.start_case(
        item=item,
        by=clerk,
        channel="window",
        applicant=applicant(world, applicant_key),
        form=FORM,
    )
    for m in case.version.materials.filter(necessity="required"):
        services.check_paper(case, clerk, material_id=m.pk)
    if received:
        services.receive(case, clerk)
    case.refresh_from_db()
    return case


def submitted_case(world, item, user_key: str, *, channel: str = "web", center=None, **kw) -> Case:
    """A case filed by an applicant (web) or the agent (agency) and submitted for pre-review."""
    user = world.user(user_key)
    case = services.start_case(item=item, by=user, channel=channel, center=center, form=FORM, **kw)
    for m in case.version.materials.filter(necessity="required"):
        services.add_upload(case, user, material_id=m.pk, upload=upload(f"{m.name}.pdf"))
    services.submit(case, user)
    case.refresh_from_db()
    return case


@dataclass
class Scoped:
    cases: dict[str, Case]

    def number(self, key: str) -> str:
        return self.cases[key].number


def scoped_cases(world) -> Scoped:
    """The five cases of the scope matrix (all items citywide, so any center accepts them):

    ==========  ===============  ==============  ===========  ================  ===========
    key         center           department      applicant    filed by          status
    ==========  ===============  ==============  ===========  ================  ===========
    city_m      city center      market          enterprise   city_clerk        received
    city_h      city center      health          citizen      city_clerk        received
    town_m      town center      market          citizen      town_clerk        received
    village_m   village point    market          enterprise   enterprise (web)  pre_review
    agent_m     city center      market          enterprise   agent (agency)    pre_review
    ==========  ===============  ==============  ===========  ================  ===========
    """
    market = make_item(world, "食品经营许可", scope="citywide", department=world.market_dept)
    health = make_item(world, "公共场所卫生许可", scope="citywide", department=world.health_dept)
    cases = {
        "city_m": paper_case(world, market, "city_clerk", "enterprise"),
        "city_h": paper_case(world, health, "city_clerk", "citizen"),
        "town_m": paper_case(world, market, "town_clerk", "citizen"),
        "village_m": submitted_case(world, market, "enterprise", center=world.village_point),
        "agent_m": submitted_case(
            world,
            market,
            "agent",
            channel="agency",
            center=world.city_center,
            applicant=applicant(world, "enterprise"),
        ),
    }
    return Scoped(cases)


# Who sees which case, and as which actor (A applicant, C clerk, R reviewer, P approver).
ACTORS: dict[str, dict[str, str]] = {
    "citizen": {"city_h": "A", "town_m": "A"},
    "enterprise": {"city_m": "A", "village_m": "A", "agent_m": "A"},
    "city_clerk": {"city_m": "C", "city_h": "C", "agent_m": "C"},
    "town_clerk": {"town_m": "C"},
    "village_clerk": {"village_m": "C"},
    # the back office sees a case from its acceptance on; these five are not accepted yet
    # (test_api_scopes.test_back_office_scope_after_acceptance covers accepted ones)
    "reviewer": {},
    "approver": {},
    "agent": {"agent_m": "A"},
    # read-only viewers: they see, they never act
    "center_admin": {"city_m": "", "city_h": "", "agent_m": ""},
    "town_admin": {"town_m": "", "village_m": ""},
    "supervisor": {"city_m": "", "city_h": "", "town_m": "", "village_m": "", "agent_m": ""},
    "catalog_admin": {},
    "auditor": {},
}
CASE_KEYS = ("city_m", "city_h", "town_m", "village_m", "agent_m")


def sees(role: str, key: str) -> bool:
    return key in ACTORS[role]


def actor(role: str, key: str) -> str:
    return ACTORS[role].get(key, "")


def pdf_file(name: str = "申请表.pdf", text: str = "x"):
    return upload(name, pdf_bytes(text))
