"""Public pages of the organization: the service-center directory."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from . import selectors
from .hours import describe
from .models import ServiceCenter


def center_list(request):
    level = request.GET.get("level") or None
    if level not in (None, *ServiceCenter.Level.values):
        level = None
    region = request.GET.get("region") or None
    q = request.GET.get("q", "").strip()[:50]
    qs = selectors.centers(level=level, region=region, q=q)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "org/center_list.html",
        {
            "page": page,
            "level": level,
            "region": region,
            "q": q,
            "levels": ServiceCenter.Level.choices,
            "towns": selectors.town_regions(),
        },
    )


def center_detail(request, code: str):
    try:
        center = selectors.center_by_code(code)
    except ServiceCenter.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "org/center_detail.html",
        {
            "center": center,
            "windows": selectors.windows_of(center),
            "hours": describe(center.opening_hours),
        },
    )
