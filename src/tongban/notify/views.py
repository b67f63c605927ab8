"""The department systems page (部门系统对接), mounted at /workbench/systems/.

* ``systems`` — the webhook subscriptions of the departments in the user's scope and their
  delivery log (time, department, event, case number, status, attempts, last HTTP status,
  next attempt, re-send or not), filtered and paginated; bodies are never shown.
* ``resend`` — 重新发送: a POST that queues a copy of one delivery (``webhooks.resend``,
  audited) and comes back to the list with the same filters.

Catalog administrators and supervisors see the page (selectors.py says which rows); only
catalog administrators get the re-send buttons, and a re-send POST from anyone else is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tongban.core.errors import Forbidden, NotFound

from . import selectors, webhooks
from .forms import DeliveryFilterForm
from .models import WebhookDelivery, WebhookSubscription

PER_PAGE = 20
KEPT_PARAMS = ("department", "status", "event", "case", "page")
WAITING = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING)


def systems_access_required(view):
    """Signed in (else the login page) and a catalog administrator or supervisor (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        access = selectors.access_for(request.user)
        if not access.can_view:
            raise PermissionDenied(_("只有事项管理员和督查人员可以查看部门系统对接。"))
        request.systems_access = access
        return view(request, *args, **kwargs)

    return wrapped


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: WebhookSubscription
    events: str  # the subscribed steps' labels; empty: every event


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    event_label: str
    waiting: bool  # pending or retrying: the next attempt is meaningful
    error: str  # why the last attempt failed, unless the HTTP status says it all


def _row(delivery: WebhookDelivery, labels) -> DeliveryRow:
    error = delivery.last_error
    if delivery.status == WebhookDelivery.Status.DELIVERED or (
        delivery.last_status_code and error == f"HTTP {delivery.last_status_code}"
    ):
        error = ""
    return DeliveryRow(
        delivery, str(labels.get(delivery.event, "")), delivery.status in WAITING, error
    )


@require_GET
@systems_access_required
def systems(request):
    access = request.systems_access
    labels = selectors.event_labels()
    subscriptions = [
        SubscriptionRow(
            s, _("、").join(str(labels.get(selectors.event_name(e), e)) for e in s.events or [])
        )
        for s in selectors.subscriptions(access)
    ]
    departments = list(
        {r.subscription.department_id: r.subscription.department for r in subscriptions}.values()
    )
    params = request.GET.copy()
    params.pop("page", None)
    form = DeliveryFilterForm(params or None, departments=departments)
    filters = form.filters()
    page = Paginator(selectors.deliveries(access, filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [_row(d, labels) for d in page.object_list]
    return render(
        request,
        "notify/systems.html",
        {
            "subscriptions": subscriptions,
            "form": form,
            "filtered": filters.active,
            "page": page,
            "rows": rows,
            "can_resend": access.can_resend,
            "back": _kept(request.GET),
        },
        status=422 if form.errors else 200,
    )


def _kept(query: QueryDict) -> str:
    """The list's filters and page as a query string (nothing else is carried back)."""
    kept = QueryDict(mutable=True)
    for key in KEPT_PARAMS:
        value = query.get(key, "")
        if value and len(value) <= 100:
            kept[key] = value
    return kept.urlencode()


@require_POST
@systems_access_required
def resend(request, uid: str):
    try:
        delivery = selectors.delivery_to_resend(request.systems_access, uid)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except Forbidden as exc:  # a supervisor, or outside the scope they re-send in
        raise PermissionDenied(exc.message) from None
    webhooks.resend(delivery, by=request.user, request=request)
    labels = selectors.event_labels()
    event = str(labels.get(delivery.event, delivery.event))
    if delivery.case_id:
        text = _("已重新排队推送“%(event)s”（办件 %(number)s），将在下一轮推送时发送。") % {
            "event": event,
            "number": delivery.case.number,
        }
    else:
        text = _("已重新排队推送“%(event)s”，将在下一轮推送时发送。") % {"event": event}
    messages.success(request, text)
    back = _kept(QueryDict(request.POST.get("back", "")))
    return redirect(reverse("notify:systems") + (f"?{back}" if back else ""))
