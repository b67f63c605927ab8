"""The append-only, hash-chained audit log (审计链).

``record(...)`` appends one event inside the caller's transaction; ``verify()`` walks the chain
and returns the first broken link. The chain head row is locked while appending so concurrent
writers on PostgreSQL extend the chain one at a time (SQLite serializes writers anyway).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .masking import mask_mapping
from .models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _canonical(event: AuditEvent) -> str:
    payload = {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip_address,
        "data": event.data,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _canonical(event)).encode("utf-8")).hexdigest()


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    actor=None,
    actor_label: str = "",
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    data: dict[str, Any] | None = None,
    request=None,
) -> AuditEvent:
    """Append one audit event. Personal data in ``data`` is masked before it is stored."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if actor is not None and not actor_label:
        actor_label = actor.get_username()
    clean = json.loads(json.dumps(mask_mapping(data or {}), cls=DjangoJSONEncoder))
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor,
            actor_label=actor_label[:150],
            action=action,
            target_type=target_type,
            target_id=str(target_id)[:80],
            ip_address=client_ip(request),
            data=clean,
            prev_hash=head.hash,
        )
        event.hash = compute_hash(head.hash, event)
        event.save()
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class Entry:
    """One event for ``record_many``: the arguments of ``record``."""

    action: str
    actor: Any = None
    target: Any = None
    data: dict[str, Any] | None = None


def record_many(entries: list[Entry], *, request=None) -> list[AuditEvent]:
    """Append many events in order, locking the chain head once (a batch intake writes
    hundreds at a time); the same rows, links and masking as ``record`` one by one."""
    if not entries:
        return []
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        seq, prev, at, ip = head.seq, head.hash, timezone.now(), client_ip(request)
        events = []
        for entry in entries:
            actor = entry.actor
            if actor is not None and not getattr(actor, "is_authenticated", False):
                actor = None
            seq += 1
            event = AuditEvent(
                seq=seq,
                at=at,
                actor=actor,
                actor_label=(actor.get_username() if actor is not None else "")[:150],
                action=entry.action,
                target_type=entry.target._meta.label_lower if entry.target is not None else "",
                target_id=str(entry.target.pk)[:80] if entry.target is not None else "",
                ip_address=ip,
                data=json.loads(json.dumps(mask_mapping(entry.data or {}), cls=DjangoJSONEncoder)),
                prev_hash=prev,
            )
            event.hash = prev = compute_hash(prev, event)
            events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=500)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    return events


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(batch_size: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first event whose link or content does not hold."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, "missing event (gap in sequence)")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq, "link to the previous event does not match")
        if compute_hash(prev_hash, event) != event.hash:
            return ChainReport(checked, event.seq, "content does not match its hash")
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.seq != checked:
        return ChainReport(checked, checked + 1, "events after the last one were deleted")
    if head and checked and head.hash != prev_hash:
        # the newest event was rewritten together with its own hash
        return ChainReport(checked, checked, "the newest event does not match the chain head")
    return ChainReport(checked)


def mask_identifier(identifier: str) -> str:
    """Mask a login identifier (ID number, mobile, credit code or plain username) for the log."""
    from .masking import mask_mobile, mask_resident_id, mask_uscc

    value = identifier.strip()
    if len(value) == 18 and value[:17].isdigit():
        return mask_resident_id(value)
    if len(value) == 11 and value.isdigit():
        return mask_mobile(value)
    if len(value) == 18:
        return mask_uscc(value)
    return value
