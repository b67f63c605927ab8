"""Applicant registration page (sign-in and sign-out use Django's views)."""

from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from tongban.core.errors import DomainError

from . import services
from .forms import RegisterForm


def register(request):
    if request.user.is_authenticated:
        return redirect("web:workbench")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if is_ratelimited(request, group="register", key="ip", rate="20/h", increment=True):
            form.add_error(None, _("注册请求过于频繁，请稍后再试。"))
        else:
            data = form.cleaned_data
            try:
                user = services.register_applicant(
                    services.Registration(
                        kind=data["kind"],
                        name=data["name"],
                        mobile=data["mobile"],
                        password=data["password"],
                        id_number=data["id_number"],
                        uscc=data["uscc"],
                        legal_representative=data["legal_representative"],
                    ),
                    request=request,
                )
            except DomainError as exc:
                field = (
                    (exc.details or [{}])[0].get("field") if isinstance(exc.details, list) else None
                )
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                login(request, user, backend="tongban.accounts.backends.IdentifierBackend")
                return redirect("web:workbench")
    return render(
        request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200
    )
