"""Role table and data-scope rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import make_user
from tongban.core.errors import InvalidInput
from tongban.org import services
from tongban.org.models import StaffAssignment
from tongban.org.roles import ROLE_RULES, Role, ScopeKind
from tongban.org.scopes import DataScope, has_role, roles_of, scope_for

pytestmark = pytest.mark.django_db


def test_every_role_has_a_rule_and_staff_roles_have_scopes():
    assert set(ROLE_RULES) == set(Role)
    for role in Role:
        assert bool(role.scope_kinds) == role.is_staff
    assert ROLE_RULES[Role.SUPERVISOR].read_only and ROLE_RULES[Role.AUDITOR].read_only
    assert not ROLE_RULES[Role.WINDOW_CLERK].read_only


def test_a_clerk_cannot_hold_a_department_scope(world):
    a = StaffAssignment(
        user=world.user("city_clerk"), role="window_clerk", department=world.market_dept
    )
    with pytest.raises(ValidationError, match="数据范围"):
        a.full_clean()


def test_the_database_refuses_two_scopes_on_one_assignment(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffAssignment.objects.create(
            user=world.user("city_clerk"),
            role="window_clerk",
            center=world.city_center,
            region=world.city,
        )


def test_assign_role_checks_the_table_and_is_audited(world):
    user = make_user("new_reviewer")
    a = services.assign_role(user, Role.REVIEWER, department=world.health_dept)
    assert a.scope_kind is ScopeKind.DEPARTMENT
    with pytest.raises(InvalidInput):
        services.assign_role(user, Role.SUPERVISOR, center=world.city_center)
    with pytest.raises(InvalidInput):
        services.assign_role(world.user("citizen"), Role.REVIEWER, department=world.health_dept)


def test_roles_of(world):
    assert roles_of(world.user("citizen")) == [Role.APPLICANT]
    assert roles_of(world.user("town_clerk")) == [Role.WINDOW_CLERK]
    StaffAssignment.objects.create(
        user=world.user("town_clerk"), role="agent", center=world.town_center
    )
    assert roles_of(world.user("town_clerk")) == [Role.WINDOW_CLERK, Role.AGENT]
    StaffAssignment.objects.filter(user=world.user("town_clerk"), role="agent").update(active=False)
    assert not has_role(world.user("town_clerk"), Role.AGENT)


def codes(qs):
    return set(qs.values_list("code", flat=True))


def test_clerk_scope_is_their_center(world):
    scope = scope_for(world.user("town_clerk"))
    assert codes(scope.centers()) == {"SC441900113"}
    assert scope.allows_center(world.town_center)
    assert not scope.allows_center(world.other_town_center)
    assert not scope.allows_center(world.village_point)


def test_town_admin_scope_covers_the_town_subtree(world):
    scope = scope_for(world.user("town_admin"))
    assert codes(scope.centers()) == {"SC441900113", "SC441900113201"}
    assert codes(scope.departments()) == {"D-113-GGFW"}
    assert scope.allows_region(world.village)
    assert not scope.allows_region(world.other_town)


def test_reviewer_scope_is_the_department_and_where_it_sits(world):
    scope = scope_for(world.user("reviewer"))
    assert codes(scope.departments()) == {"D-SCJG"}
    assert codes(scope.centers()) == {"SC441900"}
    assert scope.allows_department(world.market_dept)
    assert not scope.allows_department(world.health_dept)


def test_city_supervisor_sees_everything(world):
    scope = scope_for(world.user("supervisor"))
    assert codes(scope.centers()) == {"SC441900", "SC441900113", "SC441900121", "SC441900113201"}
    assert scope.allows_department(world.town_dept)


def test_scope_of_one_role_only(world):
    user = world.user("town_clerk")
    StaffAssignment.objects.create(user=user, role="supervisor", region=world.other_town)
    assert codes(scope_for(user, Role.WINDOW_CLERK).centers()) == {"SC441900113"}
    assert codes(scope_for(user).centers()) == {"SC441900113", "SC441900121"}


def test_anonymous_and_applicants_have_an_empty_scope(world):
    from django.contrib.auth.models import AnonymousUser

    assert scope_for(AnonymousUser()).empty
    assert scope_for(world.user("citizen")).empty
    assert not DataScope().centers().exists()


def test_superuser_scope_is_everything(world):
    root = make_user("root", is_superuser=True)
    assert scope_for(root).everything
