"""The case API (/api/v1/cases …); see cases/services.py for the rules."""

from ninja import Router

router = Router(tags=["cases"])
