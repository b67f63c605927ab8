"""The life of an item version (事项版本): a transition table that services, tests, docs and the
workbench all read.

    draft ──submit──▶ submitted ──approve──▶ approved ──publish──▶ published ──retire──▶ retired
      ▲  └─edit─┘         │                     │
      └──────reject───────┴─────────reject──────┘

Who may act (``Actor``):

* ``EDITOR``: a catalog administrator (事项管理员) whose data scope covers the item's department
  (a department scope: that department; a region scope: departments in the region subtree),
  or a superuser.
* ``SECOND_PERSON``: an editor who did not write any part of the version — not its creator, not
  anyone who edited it, not the person who submitted it (四眼原则 / four eyes). This applies to
  superusers as well.

A published or retired version is frozen: no transition edits its content, and every write in
services.py refuses to touch it (the model has no save() guard; services are the only writers,
the admin is read-only). Editing an item in force means ``start_new_version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tongban.core.models import AuditEvent
from tongban.org.roles import Role
from tongban.org.scopes import scope_for

from .models import ItemVersion

State = ItemVersion.State


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    RETIRE = "retire"


class Actor(StrEnum):
    EDITOR = "editor"
    SECOND_PERSON = "second_person"


@dataclass(frozen=True)
class Transition:
    source: str
    action: Action
    target: str
    actor: Actor
    label: Promise


TRANSITIONS: tuple[Transition, ...] = (
    Transition(State.DRAFT, Action.EDIT, State.DRAFT, Actor.EDITOR, _("编辑草稿")),
    Transition(State.DRAFT, Action.SUBMIT, State.SUBMITTED, Actor.EDITOR, _("提交审核")),
    Transition(State.SUBMITTED, Action.APPROVE, State.APPROVED, Actor.SECOND_PERSON, _("审核通过")),
    Transition(State.SUBMITTED, Action.REJECT, State.DRAFT, Actor.EDITOR, _("退回修改")),
    Transition(State.APPROVED, Action.REJECT, State.DRAFT, Actor.EDITOR, _("退回修改")),
    Transition(State.APPROVED, Action.PUBLISH, State.PUBLISHED, Actor.EDITOR, _("发布")),
    Transition(State.PUBLISHED, Action.RETIRE, State.RETIRED, Actor.EDITOR, _("停用")),
)

_BY_KEY: dict[tuple[str, str], Transition] = {(t.source, t.action): t for t in TRANSITIONS}

# Audit actions that mean "this person wrote (part of) the version".
AUTHORING_ACTIONS = ("catalog.version_create", "catalog.version_update")


def transition_for(state: str, action: str) -> Transition | None:
    return _BY_KEY.get((state, action))


def actions_from(state: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == state]


def can_manage(user, department) -> bool:
    """Catalog writes: a catalog administrator whose scope covers ``department``, or a superuser."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if getattr(user, "kind", "") == "applicant":
        return False
    return scope_for(user, Role.CATALOG_ADMIN).allows_department(department)


def authors_of(version: ItemVersion) -> set[int]:
    """Ids of everyone who wrote part of ``version``: its creator, every editor (from the audit
    chain) and its submitter."""
    ids = {
        uid
        for uid in (version.created_by_id, version.submitted_by_id)
        if uid is not None  # a None creator (seed, import) is nobody
    }
    if version.pk:
        ids.update(
            AuditEvent.objects.filter(
                target_type=ItemVersion._meta.label_lower,
                target_id=str(version.pk),
                action__in=AUTHORING_ACTIONS,
                actor__isnull=False,
            ).values_list("actor_id", flat=True)
        )
    return ids


def is_second_person(version: ItemVersion, user) -> bool:
    return user.pk not in authors_of(version)


def can_transition(version: ItemVersion, action: str, user) -> bool:
    """Whether ``user`` may apply ``action`` to ``version`` now (state, role, scope, four eyes)."""
    transition = transition_for(version.state, action)
    if transition is None or not can_manage(user, version.item.department):
        return False
    if transition.actor == Actor.SECOND_PERSON:
        return is_second_person(version, user)
    return True


def available_actions(version: ItemVersion, user) -> list[Transition]:
    """Transitions the workbench may offer ``user`` on ``version`` (edit excluded)."""
    return [
        t
        for t in actions_from(version.state)
        if t.action != Action.EDIT and can_transition(version, t.action, user)
    ]
