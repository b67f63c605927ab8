"""The filter form of the department systems page (部门系统对接, notify/views.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import WebhookDelivery
from .selectors import DeliveryFilter, event_labels


class DeliveryFilterForm(forms.Form):
    department = forms.ChoiceField(label=_("部门"), required=False)
    status = forms.ChoiceField(label=_("推送状态"), required=False)
    event = forms.ChoiceField(label=_("事件"), required=False)
    case = forms.CharField(
        label=_("办件编号"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        self.fields["department"].choices = every + [(d.code, d.name) for d in departments]
        self.fields["status"].choices = every + list(WebhookDelivery.Status.choices)
        self.fields["event"].choices = every + [
            (value, gettext("%(label)s（%(event)s）") % {"label": label, "event": value})
            for value, label in event_labels().items()
        ]

    def filters(self) -> DeliveryFilter:
        """The valid filters (an invalid field is left out and shown with its error)."""
        if not self.is_bound:
            return DeliveryFilter()
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if v}
        return DeliveryFilter(**data)
