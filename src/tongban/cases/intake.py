"""Window intake in one step (接件并受理), for one application or a batch of them.

A window clerk — or a center's mail room registering the day's postal applications, or a
counter system posting for its clerk — hands over applications whose paper originals were
checked at the window; each becomes a case that is received and accepted at once, exactly as
the workbench's 接件并受理 does for a registered draft (``services.receive_and_accept``):

- the same rules: the clerk's own center, the item's published version, the center in the
  item's acceptance scope today, the applicant found by resident ID number or credit code, the
  application form (``services._apply_form``) with a contact mobile and a description, every
  必要 material checked as a paper original (容缺 ones may follow: ``tolerated_pending``), the
  approving department from the power ledger on this date (``services.resolve_department``);
- the same rows: the case (accepted, the clock started by ``clock.start``), a paper material row
  per checked original, the events create → receive (code 1) → accept (code 3), a 受理通知书,
  an audit event per step (one hash chain), the applicant's message (inbox + SMS) and the
  webhook outbox rows for subscribed department systems.

It is all or nothing: every application is checked first and all problems are reported at once
(``applications[i].field``); nothing is written unless all pass. The writes are batched (one
insert per table), which is what lets the platform take a city's intake on modest hardware
(``bench/bench_intake.py``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.accounts.models import Applicant
from tongban.catalog import acceptance, ledger
from tongban.catalog.models import Material, ServiceItem
from tongban.core import audit
from tongban.core.errors import Conflict, DomainError, InvalidInput, RateLimited
from tongban.core.identifiers import public_number
from tongban.notify import services as notify
from tongban.notify import webhooks
from tongban.org.models import ServiceCenter, Window

from . import clock, lifecycle, limits, services
from .forms import IdentityLookupForm
from .lifecycle import Actor
from .models import Case, CaseEvent, CaseMaterial, CaseNotice, Channel, Colour, Status

MAX_BATCH = 200
INTAKE_CHANNELS = (Channel.WINDOW, Channel.MAIL)


@dataclass
class Application:
    """One application as handed over at the window."""

    item: str
    applicant_identity: str
    form: dict[str, Any] = field(default_factory=dict)
    paper: list[int] = field(default_factory=list)  # catalog material ids, originals checked
    note: str = ""


@dataclass
class Accepted:
    case: Case
    notice: str  # the 受理通知书's number


@dataclass
class _Prepared:
    case: Case
    paper: list[Material]
    tolerated: list[Material]
    mode: str


class _Problems:
    def __init__(self):
        self.details: list[dict[str, str]] = []

    def add(self, index: int, name: str, message: str) -> None:
        self.details.append({"field": f"applications[{index}].{name}", "message": str(message)})


def _identity(value: str) -> tuple[str, str] | str:
    """(kind, number), or the message saying why ``value`` is not a valid identity number."""
    form = IdentityLookupForm({"identity": value})
    if not form.is_valid():
        return str(form.errors["identity"][0])
    return form.cleaned_data["identity"]


def _applicants(numbers: set[str]) -> dict[str, Applicant]:
    """The applicants holding these numbers, in one query; natural persons win a clash, as in
    ``applicant_by_identity``."""
    found: dict[str, Applicant] = {}
    rows = Applicant.objects.filter(
        Q(kind=Applicant.Kind.NATURAL, id_number__in=numbers)
        | Q(kind=Applicant.Kind.LEGAL, uscc__in=numbers)
    ).select_related("user")
    for a in sorted(rows, key=lambda a: a.kind != Applicant.Kind.NATURAL):
        found.setdefault(a.identity_number, a)
    return found


class _ItemRules:
    """What intake needs to know of an item at a center on a day: its published version and
    materials, whether the center may accept it and who approves it there. Kept in the worker
    for ``CASE_INTAKE_RULES_SECONDS`` (default 60; 0 turns it off), so a window's run of the
    same items does not ask the catalog again; a catalog change reaches intake within that
    time (acceptance scopes and delegations are dated anyway)."""

    _shared: dict[tuple, tuple[float, Any]] = {}
    _lock = threading.Lock()

    def __init__(self, center: ServiceCenter, day):
        self.center, self.day = center, day
        self.ttl = float(getattr(settings, "CASE_INTAKE_RULES_SECONDS", 60))

    def get(self, code: str):
        key = (code, self.center.pk, self.day)
        hit = self._shared.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        value = self._load(code)
        if self.ttl > 0 and not isinstance(
            value, str
        ):  # refusals are said in the caller's language
            with self._lock:
                if len(self._shared) > 20_000:
                    self._shared.clear()
                self._shared[key] = (time.monotonic() + self.ttl, value)
        return value

    @classmethod
    def forget(cls) -> None:
        with cls._lock:
            cls._shared.clear()

    def _load(self, code: str):
        item = (
            ServiceItem.objects.select_related("department", "published_version")
            .filter(code=code)
            .first()
        )
        if item is None:
            return _("未找到事项：%(code)s。") % {"code": code}
        try:
            version = services._published_version(item)
        except DomainError as exc:
            return exc.message
        if not acceptance.can_accept_at(item, self.center, self.day):
            return _("%(center)s不在该事项的受理范围内。") % {"center": self.center.name}
        with translation.override(settings.LANGUAGE_CODE):  # bodies are recorded in Chinese
            exercise = ledger.approving_body(item, self.center.region, self.day)
        try:
            department = services.resolve_department(exercise, item)
        except DomainError as exc:
            return exc.message
        materials = list(version.materials.all())
        return item, version, materials, exercise, department


def _prepare(
    applications: list[Application], *, by, center: ServiceCenter, channel: str, request
) -> list[_Prepared]:
    problems = _Problems()
    day = services.today()
    rules = _ItemRules(center, day)
    identities: dict[int, str] = {}
    for i, app in enumerate(applications):
        parsed = _identity(app.applicant_identity)
        if isinstance(parsed, str):
            problems.add(i, "applicant_identity", parsed)
        else:
            identities[i] = parsed[1]
    if identities and request is not None:
        wait = limits.lookup_limited(request, len(identities))
        if wait:
            raise RateLimited(_("查找申请人过于频繁，请稍后再试。"), retry_after=wait)
    applicants = _applicants(set(identities.values()))
    accepted_at = services.now()
    prepared = []
    for i, app in enumerate(applications):
        rule = rules.get(app.item.strip())
        if isinstance(rule, str):
            problems.add(i, "item", rule)
            continue
        item, version, materials, exercise, department = rule
        applicant = applicants.get(identities.get(i, ""))
        if i in identities and applicant is None:
            problems.add(i, "applicant_identity", _("未找到该申请人，请先登记申请人信息。"))
        if applicant is None:
            continue
        case = Case(
            item=item,
            version=version,
            applicant=applicant,
            filed_by=by,
            channel=channel,
            status=Status.ACCEPTED,
            title=version.name,
            center=center,
            region=center.region,
            department=department,
            approving_body=exercise.body,
            decision_in_name_of=exercise.in_name_of,
            accepted_by=by,
            contact_name=applicant.name if applicant.kind == Applicant.Kind.NATURAL else "",
            contact_mobile=applicant.mobile,
            submitted_at=accepted_at,
        )
        try:
            services._apply_form(case, app.form or {}, version)
            services._check_ready(case)
        except InvalidInput as exc:
            for d in exc.details or [{"field": "form", "message": exc.message}]:
                problems.add(i, f"form.{d.get('field', '')}", d.get("message", exc.message))
            continue
        by_id = {m.pk: m for m in materials}
        unknown = [m for m in app.paper if m not in by_id]
        if unknown:
            problems.add(
                i, "paper", _("材料不属于该事项：%(ids)s。") % {"ids": ", ".join(map(str, unknown))}
            )
            continue
        checked = [by_id[m] for m in dict.fromkeys(app.paper)]
        missing = [
            m
            for m in materials
            if m.necessity == Material.Necessity.REQUIRED and m.pk not in set(app.paper)
        ]
        if missing:
            problems.add(
                i,
                "paper",
                _("还缺必要材料：%(names)s。") % {"names": "、".join(m.name for m in missing)},
            )
            continue
        tolerated = [
            m
            for m in materials
            if m.necessity == Material.Necessity.TOLERATED and m.pk not in set(app.paper)
        ]
        case.tolerated_pending = bool(tolerated)
        clock.start(case, accepted_at)
        case.colour = clock.colour(case, day)
        prepared.append(_Prepared(case, checked, tolerated, exercise.mode))
    if problems.details:
        first = problems.details[0]
        raise InvalidInput(
            f"{first['field']}: {first['message']}",
            code="invalid_applications",
            details=problems.details,
        )
    return prepared


def _numbers(count: int, prefix: str, day) -> list[str]:
    """``count`` fresh random public numbers; one already taken in the table is caught by its
    unique index and the intake is tried again with new numbers (see ``intake``)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add(public_number(prefix, on=day))
    return sorted(numbers)


def intake(
    applications: list[Application],
    *,
    by,
    center: ServiceCenter | None = None,
    channel: str = Channel.WINDOW,
    window: Window | None = None,
    request=None,
) -> list[Accepted]:
    """Receive and accept each application as a case at ``center`` (default: the clerk's).
    All or nothing; see the module docstring."""
    if channel not in INTAKE_CHANNELS:
        raise InvalidInput(
            _("窗口受理只适用于窗口或邮寄申请。"),
            details=[{"field": "channel", "message": _("无效")}],
        )
    if not applications:
        raise InvalidInput(
            _("请至少提交一件申请。"), details=[{"field": "applications", "message": _("为空")}]
        )
    if len(applications) > MAX_BATCH:
        raise InvalidInput(
            _("一次最多受理 %(n)s 件。") % {"n": MAX_BATCH},
            details=[{"field": "applications", "message": _("过多")}],
        )
    center = services._clerk_center(by, center)
    if window is not None and window.center_id != center.pk:
        raise InvalidInput(_("窗口不属于受理中心。"), details=[{"field": "window"}])
    prepared = _prepare(applications, by=by, center=center, channel=channel, request=request)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _write(prepared, applications, by=by, window=window, request=request)
        except IntegrityError:  # a random case or notice number was taken: new numbers
            if attempt == 2:
                raise Conflict(_("办件编号冲突，请重试。"), code="number_conflict") from None
            for p in prepared:
                p.case.pk = None
    raise AssertionError("unreachable")


def _write(prepared, applications, *, by, window, request) -> list[Accepted]:
    day = services.today()
    at = services.now()
    cases = [p.case for p in prepared]
    for case, number in zip(cases, _numbers(len(cases), services.NUMBER_PREFIX, day), strict=True):
        case.number = number
        case.window = window
    Case.objects.bulk_create(cases, batch_size=500)

    materials = [
        CaseMaterial(
            case=p.case,
            material=m,
            name=m.name,
            source=CaseMaterial.Source.PAPER,
            uploaded_by=by,
            uploaded_at=at,
        )
        for p in prepared
        for m in p.paper
    ]
    CaseMaterial.objects.bulk_create(materials, batch_size=500)

    notice_numbers = iter(
        _numbers(len(prepared), services.NOTICE_PREFIX[CaseNotice.Kind.ACCEPTANCE], day)
    )
    notices = [
        CaseNotice(
            case=p.case,
            kind=CaseNotice.Kind.ACCEPTANCE,
            number=next(notice_numbers),
            items=[m.name for m in p.tolerated],
            issued_by=by,
            issued_in_name_of=p.case.center.name,
            issued_at=at,
        )
        for p in prepared
    ]
    CaseNotice.objects.bulk_create(notices, batch_size=500)

    clerk_role = services.ROLE_OF_ACTOR[Actor.CLERK].value
    label = str(by)[:150]
    events: list[CaseEvent] = []
    entries: list[audit.Entry] = []
    accepts: list[tuple[Case, CaseEvent]] = []
    for p, notice, app in zip(prepared, notices, applications, strict=True):
        case = p.case
        steps = (
            ("create", "", "", None, {"channel": case.channel, "item": case.item.code,
                                       "version": case.version.number}),
            ("receive", Status.DRAFT, Status.RECEIVED, 1,
             {"paper": [m.name for m in p.paper]}),
            ("accept", Status.RECEIVED, Status.ACCEPTED, 3, {
                "department": case.department.code,
                "mode": p.mode,
                "due_date": case.due_date.isoformat() if case.due_date else None,
                "due_provisional": case.due_provisional,
                "to_follow": [m.name for m in p.tolerated],
                "notice": notice.number,
            }),
        )  # fmt: skip
        for action, source, target, code, data in steps:
            event = CaseEvent(
                case=case,
                action=action,
                from_status=source,
                to_status=target,
                code=code,
                actor=by,
                actor_label=label,
                role=clerk_role,
                center=case.center,
                at=at,
                note=app.note if action == "accept" else "",
                data=data,
            )
            events.append(event)
            entries.append(
                audit.Entry(
                    f"case.{action}",
                    actor=by,
                    target=case,
                    data={
                        "number": case.number,
                        "from": source,
                        "to": target,
                        "role": clerk_role,
                        **({"note": app.note[:200]} if app.note and action == "accept" else {}),
                        **data,
                    },
                )
            )
        accepts.append((case, events[-1]))
    CaseEvent.objects.bulk_create(events, batch_size=500)
    audit.record_many(entries, request=request)
    webhooks.enqueue_case_events(accepts)
    notify.cases_status_changed(cases, lifecycle.steps_for("accept", Status.RECEIVED)[0].label)
    notify.cases_clock_alert(  # a 即办件 is yellow on acceptance
        (case, case.colour) for case in cases if case.colour in (Colour.YELLOW, Colour.RED)
    )
    return [Accepted(case, notice.number) for case, notice in zip(cases, notices, strict=True)]
