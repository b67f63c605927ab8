"""The hash-chained audit log: record(), verify() and ``manage.py verify_audit``."""

from __future__ import annotations

import itertools
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from tests.factories import RESIDENT_ID, make_user
from tongban.core import audit
from tongban.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db

MOBILE = "13812345678"


def build_chain(n: int = 5) -> list[AuditEvent]:
    return [audit.record(f"test.event_{i}", data={"i": i}) for i in range(1, n + 1)]


def run_verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


# --- Building the chain -------------------------------------------------------------------------


def test_record_builds_a_linked_chain():
    events = build_chain(4)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == audit.GENESIS
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert len({e.hash for e in events}) == 4
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (4, events[-1].hash)


def test_stored_hash_is_recomputable_from_the_stored_row():
    event = audit.record("test.event", target_type="case", target_id="42", data={"a": [1, "b"]})
    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.hash == event.hash == audit.compute_hash(audit.GENESIS, stored)


def test_record_fills_actor_target_and_ip():
    user = make_user("clerk1")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    event = audit.record("test.acted", actor=user, target=user, request=request)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_id == user.pk
    assert stored.actor_label == "clerk1"
    assert stored.target_type == user._meta.label_lower
    assert stored.target_id == str(user.pk)
    assert stored.ip_address == "203.0.113.7"


def test_personal_data_is_masked_when_stored():
    event = audit.record(
        "accounts.register",
        data={
            "id_number": RESIDENT_ID,
            "mobile": MOBILE,
            "name": "张三丰",
            "note": f"联系人 {MOBILE}，证件 {RESIDENT_ID}",
            "nested": {"phone": "13900139000", "items": [{"resident_id": "440304199001011233"}]},
        },
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.data == {
        "id_number": "110***********002X",
        "mobile": "138****5678",
        "name": "张**",
        "note": "联系人 138****5678，证件 110***********002X",
        "nested": {"phone": "139****9000", "items": [{"resident_id": "440***********1233"}]},
    }
    raw = str(AuditEvent.objects.filter(pk=event.pk).values_list("data", flat=True)[0])
    assert RESIDENT_ID not in raw and MOBILE not in raw
    assert audit.verify().ok


# --- verify() -----------------------------------------------------------------------------------


def test_verify_empty_chain_is_ok():
    report = audit.verify()
    assert report.ok and report.checked == 0


def test_verify_intact_chain():
    build_chain(7)
    report = audit.verify()
    assert report.ok
    assert report.checked == 7
    assert report.broken_seq is None and report.reason == ""


def test_verify_small_batches_walk_the_whole_chain():
    build_chain(7)
    assert audit.verify(batch_size=2).checked == 7


def test_changed_data_is_detected_at_that_seq():
    build_chain(5)
    AuditEvent.objects.filter(seq=3).update(data={"i": 999})
    report = audit.verify()
    assert not report.ok
    assert report.broken_seq == 3
    assert report.checked == 2
    assert "hash" in report.reason


@pytest.mark.parametrize(
    "change",
    [
        {"action": "test.forged"},
        {"actor_label": "someone_else"},
        {"target_id": "99"},
        {"ip_address": "198.51.100.1"},
    ],
)
def test_any_changed_field_is_detected(change):
    build_chain(4)
    AuditEvent.objects.filter(seq=2).update(**change)
    assert audit.verify().broken_seq == 2


def test_changed_timestamp_is_detected():
    events = build_chain(3)
    AuditEvent.objects.filter(seq=1).update(at=events[0].at.replace(year=2000))
    assert audit.verify().broken_seq == 1


def test_rewriting_a_row_with_its_own_recomputed_hash_breaks_the_next_link():
    build_chain(4)
    AuditEvent.objects.filter(seq=2).update(data={"i": 999})
    forged = AuditEvent.objects.get(seq=2)
    AuditEvent.objects.filter(seq=2).update(hash=audit.compute_hash(forged.prev_hash, forged))
    report = audit.verify()
    assert report.broken_seq == 3
    assert "previous" in report.reason


def test_deleted_middle_row_is_detected_as_a_gap():
    build_chain(5)
    AuditEvent.objects.filter(seq=3).delete()
    report = audit.verify()
    assert report.broken_seq == 3
    assert report.checked == 2
    assert "gap" in report.reason


def test_deleted_first_row_is_detected():
    build_chain(3)
    AuditEvent.objects.filter(seq=1).delete()
    assert audit.verify().broken_seq == 1


def test_deleted_last_row_is_detected():
    build_chain(5)
    AuditEvent.objects.filter(seq=5).delete()
    report = audit.verify()
    assert not report.ok
    assert report.broken_seq == 5
    assert report.checked == 4
    assert "deleted" in report.reason


def test_deleted_last_rows_are_detected():
    build_chain(5)
    AuditEvent.objects.filter(seq__gte=3).delete()
    assert audit.verify().broken_seq == 3


def test_changed_prev_hash_is_detected():
    build_chain(4)
    AuditEvent.objects.filter(seq=3).update(prev_hash="f" * 64)
    report = audit.verify()
    assert report.broken_seq == 3
    assert "previous" in report.reason


def test_changed_hash_is_detected():
    build_chain(4)
    AuditEvent.objects.filter(seq=4).update(hash="e" * 64)
    assert audit.verify().broken_seq == 4


def test_renumbered_row_is_detected():
    build_chain(3)
    AuditEvent.objects.filter(seq=3).update(seq=4)
    assert audit.verify().broken_seq == 3


def test_the_chain_continues_after_verification():
    build_chain(2)
    assert audit.verify().ok
    audit.record("test.later")
    assert audit.verify().checked == 3


# --- manage.py verify_audit ---------------------------------------------------------------------


def test_verify_audit_command_on_an_intact_chain():
    build_chain(6)
    assert "audit chain intact: 6 events" in run_verify_audit()


def test_verify_audit_command_on_an_empty_chain():
    assert "audit chain intact: 0 events" in run_verify_audit()


def test_verify_audit_command_names_the_tampered_seq():
    build_chain(6)
    AuditEvent.objects.filter(seq=4).update(data={"i": "forged"})
    with pytest.raises(CommandError, match=r"seq 4\b") as info:
        run_verify_audit()
    assert "content does not match its hash" in str(info.value)


def test_verify_audit_command_names_a_gap():
    build_chain(6)
    AuditEvent.objects.filter(seq=2).delete()
    with pytest.raises(CommandError, match=r"seq 2\b.*gap"):
        run_verify_audit()


def test_verify_audit_command_detects_a_deleted_tail():
    build_chain(3)
    AuditEvent.objects.filter(seq=3).delete()
    with pytest.raises(CommandError, match=r"seq 3\b"):
        run_verify_audit()


def test_verify_audit_command_accepts_a_batch_size():
    build_chain(3)
    out = StringIO()
    call_command("verify_audit", "--batch-size", "1", stdout=out)
    assert "audit chain intact: 3 events" in out.getvalue()
