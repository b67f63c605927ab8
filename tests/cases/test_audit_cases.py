"""Case steps in the hash-chained audit log: every transition is an audit event in the chain, and
tampering with a case's audit row is found by ``manage.py verify_audit`` at that row's seq."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.cases.test_lifecycle import walk
from tests.factories import RESIDENT_ID
from tongban.cases import services
from tongban.cases.models import CaseEvent, Status
from tongban.core import audit
from tongban.core.errors import Conflict
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db

S = Status


def case_audit(case) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(target_type="cases.case", target_id=str(case.pk)).order_by("seq")
    )


def verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_every_step_of_a_case_is_in_the_chain(world):
    case = walk(world, S.CLOSED)
    services.revoke(case, world.user("approver"), reason="以欺骗手段取得许可")
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "pk"))
    audited = case_audit(case)
    # one audit event per case event, in the same order, with the same from/to
    assert [f"case.{e.action}" for e in events] == [a.action for a in audited]
    transitions = [(a.action, a.data["from"], a.data["to"]) for a in audited if a.data.get("from")]
    assert transitions == [
        ("case.submit", S.DRAFT, S.PRE_REVIEW),
        ("case.accept", S.PRE_REVIEW, S.ACCEPTED),
        ("case.start_review", S.ACCEPTED, S.IN_REVIEW),
        ("case.submit_for_approval", S.IN_REVIEW, S.APPROVAL),
        ("case.approve", S.APPROVAL, S.APPROVED),
        ("case.issue_result", S.APPROVED, S.ISSUED),
        ("case.hand_out", S.ISSUED, S.DELIVERED),
        ("case.close", S.DELIVERED, S.CLOSED),
        ("case.revoke", S.CLOSED, S.REVOKED),
    ]
    for a in audited:
        assert a.data["number"] == case.number
    by_action = {a.action: a for a in audited}
    assert by_action["case.accept"].actor == world.user("city_clerk")
    assert by_action["case.accept"].data["role"] == "window_clerk"
    assert by_action["case.approve"].actor == world.user("approver")
    assert by_action["case.revoke"].data["note"] == "以欺骗手段取得许可"
    # they are links of one unbroken chain
    seqs = [a.seq for a in audited]
    assert seqs == sorted(seqs)
    for a in audited:
        previous = AuditEvent.objects.get(seq=a.seq - 1) if a.seq > 1 else None
        assert a.prev_hash == (previous.hash if previous else audit.GENESIS)
    report = audit.verify()
    assert report.ok and report.checked == AuditEvent.objects.count()
    assert "audit chain intact" in verify_audit()


def test_a_refused_step_leaves_no_audit_event(world):
    case = walk(world, S.IN_REVIEW)
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict):
        services.close(case, world.user("city_clerk"))
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("action", ["case.accept", "case.start_review", "case.submit"])
def test_changed_case_audit_data_is_detected_at_its_seq(world, action):
    case = walk(world, S.IN_REVIEW)
    walk(world, S.ACCEPTED)  # more events after the forged one
    assert "audit chain intact" in verify_audit()
    target = next(a for a in case_audit(case) if a.action == action)
    forged = {**target.data, "role": "approver"}
    AuditEvent.objects.filter(pk=target.pk).update(data=forged)
    with pytest.raises(CommandError) as caught:
        verify_audit()
    message = str(caught.value)
    assert f"audit chain broken at seq {target.seq}:" in message
    assert "content does not match its hash" in message
    assert f"({target.seq - 1} events verified before it)" in message


def test_changed_row_by_sql_is_detected(world):
    case = walk(world, S.APPROVAL)
    target = next(a for a in case_audit(case) if a.action == "case.submit_for_approval")
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET actor_label = %s WHERE seq = %s",  # noqa: S608
            ["approver", target.seq],
        )
    with pytest.raises(CommandError, match=f"broken at seq {target.seq}:"):
        verify_audit()


def test_a_forged_row_with_a_recomputed_hash_breaks_the_next_link(world):
    case = walk(world, S.IN_REVIEW)
    target = next(a for a in case_audit(case) if a.action == "case.accept")
    AuditEvent.objects.filter(pk=target.pk).update(data={**target.data, "due_date": "2099-01-01"})
    row = AuditEvent.objects.get(pk=target.pk)
    AuditEvent.objects.filter(pk=target.pk).update(hash=audit.compute_hash(row.prev_hash, row))
    with pytest.raises(CommandError, match=f"broken at seq {target.seq + 1}: link"):
        verify_audit()


def test_a_deleted_case_audit_row_is_a_gap(world):
    case = walk(world, S.IN_REVIEW)
    target = next(a for a in case_audit(case) if a.action == "case.accept")
    AuditEvent.objects.filter(pk=target.pk).delete()
    with pytest.raises(CommandError, match=f"broken at seq {target.seq}: missing"):
        verify_audit()


def test_case_audit_rows_carry_no_personal_data(world):
    """A natural person's case: the ID number and mobile never reach the audit log in clear."""
    from tests.catalog.factories import make_item

    item = make_item(world)
    citizen = world.user("citizen")
    case = services.start_case(
        item=item,
        by=citizen,
        channel="web",
        form={"description": "申请办理", "contact_mobile": "13800138000"},
    )
    services.withdraw(case, citizen, reason=f"本人 13800138000 身份证 {RESIDENT_ID} 撤回")
    rows = case_audit(case)
    assert [r.action for r in rows] == ["case.create", "case.withdraw"]
    raw = " ".join(str(r.data) for r in rows)
    assert "13800138000" not in raw and RESIDENT_ID not in raw
    assert "138****8000" in raw
    assert audit.verify().ok


def test_the_newest_row_forged_with_its_hash_is_detected(world):
    case = walk(world, S.ACCEPTED)
    target = case_audit(case)[-1]
    assert target.seq == AuditEvent.objects.count()  # the newest event of the chain
    AuditEvent.objects.filter(pk=target.pk).update(data={**target.data, "due_date": "2099-01-01"})
    row = AuditEvent.objects.get(pk=target.pk)
    AuditEvent.objects.filter(pk=target.pk).update(hash=audit.compute_hash(row.prev_hash, row))
    with pytest.raises(CommandError, match=f"broken at seq {target.seq}"):
        verify_audit()
