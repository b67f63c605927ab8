"""The applicant's case pages in English have no untranslated interface text (data — item names,
centers, materials, notices, messages — stays as entered). Run after the English catalogue is
updated: it fails on every msgid not yet translated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.cases.factories import online_case, upload
from tests.cases.test_applicant_pages import FILL, applicant, signed_in
from tests.catalog.factories import make_item
from tests.web.test_pages import assert_no_chinese, english
from tongban.cases import services
from tongban.cases.models import Case, Status
from tongban.notify.models import Notification
from tongban.registry.models import Licence


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def case_data(*cases) -> tuple[str, ...]:
    values: set[str] = {"中文"}
    for case in cases:
        values.add(case.title)
        values.update(str(v) for v in case.form_data.values() if v)
        values.update({case.contact_name, case.postal_address})
        values.update(m.name for m in case.version.materials.all())
        values.update(m.original_name for m in case.materials.all() if m.original_name)
        for notice in case.notices.all():
            values.update(str(i) for i in notice.items)
            values.update({notice.issued_in_name_of, notice.reason})
        values.update(e.note for e in case.events.all() if e.note)
        values.update({case.approving_body, case.decision_in_name_of})
    for n in Notification.objects.all():
        values.update({n.subject, n.body})
    for lic in Licence.objects.all():
        values.update({lic.licence_type, lic.issuer})
    return tuple(sorted((v for v in values if v), key=len, reverse=True))


def test_applicant_pages_in_english(world):
    item = make_item(world, "食品经营许可")
    Licence.objects.create(
        holder=applicant(world, "enterprise"),
        licence_type="营业执照",
        number="ZZ-BL-0001",
        issuer="东莞市市场监督管理局",
        issued_on=dt.date(2024, 1, 1),
    )
    told = online_case(world, item)
    services.notify_missing(told, world.user("city_clerk"), items=["缺少签字"])
    client = english(signed_in(world, "enterprise"))
    client.post(reverse("cases_applicant:apply", args=[item.code]), FILL)
    draft = Case.objects.filter(status=Status.DRAFT).get()
    material = draft.version.materials.get(name="申请表")
    client.post(
        reverse("cases_applicant:materials", args=[draft.number]),
        {"op": "upload", "material": material.pk, "file": upload()},
    )
    extra = (*case_data(told, draft), item.published_version.name)

    pages = [
        reverse("cases_applicant:apply", args=[item.code]),
        reverse("cases_applicant:my_cases"),
        reverse("cases_applicant:case", args=[told.number]),
        reverse("cases_applicant:withdraw", args=[told.number]),
        reverse("cases_applicant:licences"),
        reverse("cases_applicant:messages"),
        reverse("cases_applicant:progress"),
        reverse("web:workbench"),
        *(
            reverse("cases_applicant:step", args=[draft.number, s])
            for s in ("fill", "materials", "delivery", "confirm")
        ),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_chinese(response, extra)

    # errors and the receipt
    assert_no_chinese(
        client.post(reverse("cases_applicant:step", args=[draft.number, "confirm"]), {}), extra
    )
    client.post(
        reverse("cases_applicant:materials", args=[draft.number]),
        {
            "op": "licence",
            "material": draft.version.materials.get(name="营业执照").pk,
            "licence": Licence.objects.get().pk,
        },
    )
    client.post(reverse("cases_applicant:step", args=[draft.number, "confirm"]), {"pledge": "on"})
    response = client.get(reverse("cases_applicant:receipt", args=[draft.number]))
    assert response.status_code == 200
    assert_no_chinese(response, case_data(told, draft))

    # the public progress query, found and not found
    found = client.post(
        reverse("cases_applicant:progress"),
        {"number": told.number, "mobile": told.contact_mobile},
    )
    assert_no_chinese(found, case_data(told))
    missing = client.post(
        reverse("cases_applicant:progress"), {"number": "BJ0", "mobile": "13700000000"}
    )
    assert_no_chinese(missing, extra)


def test_window_only_item_page_in_english(world, client):
    item = make_item(world, "窗口事项", depth=1, handled_online=False)
    english(client)
    response = client.get(reverse("cases_applicant:apply", args=[item.code]))
    assert_no_chinese(response, ("窗口事项",))
