"""Django admin for the catalog: read-only views for superusers and support staff.

Every catalog write has rules the admin would bypass — four-eyes publishing, frozen published
versions, the ledger's overlap checks, all-or-nothing imports — so the admin only shows; editing
happens in the catalog workbench and the API, through services.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    AcceptanceBatch,
    AcceptanceRule,
    Faq,
    ImportJob,
    ItemVersion,
    LedgerEntry,
    Material,
    Power,
    ProcessStep,
    ServiceItem,
    SupervisionItem,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MaterialInline(ReadOnlyInline):
    model = Material
    fields = ("order", "name", "kind", "form", "necessity", "source", "licence_type", "copies")


class StepInline(ReadOnlyInline):
    model = ProcessStep
    fields = ("order", "kind", "name", "role", "office", "days")


class FaqInline(ReadOnlyInline):
    model = Faq
    fields = ("order", "question", "answer")


class VersionInline(ReadOnlyInline):
    model = ItemVersion
    fields = ("number", "state", "name", "created_by", "approved_by", "published_at")
    show_change_link = True


class RuleInline(ReadOnlyInline):
    model = AcceptanceRule
    fields = ("effective_from", "scope", "document_no", "batch")


@admin.register(ServiceItem)
class ServiceItemAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "item_type", "department", "status", "high_frequency")
    list_filter = ("item_type", "status", "high_frequency", "department__level")
    search_fields = ("code", "base_code", "published_version__name")
    list_select_related = ("department", "published_version")
    inlines = [VersionInline, RuleInline]

    @admin.display(description=_("事项名称"))
    def name(self, obj: ServiceItem) -> str:
        return str(obj)


@admin.register(ItemVersion)
class ItemVersionAdmin(ReadOnlyAdmin):
    list_display = ("item", "number", "name", "state", "online_depth", "max_visits")
    list_filter = ("state", "online_depth", "case_kind", "subject")
    search_fields = ("name", "item__code")
    list_select_related = ("item", "item__published_version")
    inlines = [MaterialInline, StepInline, FaqInline]


@admin.register(AcceptanceBatch)
class AcceptanceBatchAdmin(ReadOnlyAdmin):
    list_display = ("document_no", "title", "scope", "effective_from", "created_at")
    list_filter = ("scope",)
    search_fields = ("document_no", "title")


@admin.register(AcceptanceRule)
class AcceptanceRuleAdmin(ReadOnlyAdmin):
    list_display = ("item", "scope", "effective_from", "document_no", "batch")
    list_filter = ("scope",)
    search_fields = ("item__code", "document_no")
    list_select_related = ("item", "item__published_version", "batch")


@admin.register(Power)
class PowerAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "category", "department", "level", "active")
    list_filter = ("category", "level", "active")
    search_fields = ("code", "name")
    list_select_related = ("department",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("power", "action", "region", "effective_from", "document_no")
    list_filter = ("action",)
    search_fields = ("power__code", "power__name", "document_no")
    list_select_related = ("power", "region")


@admin.register(SupervisionItem)
class SupervisionItemAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "department", "level", "active")
    list_filter = ("level", "active")
    search_fields = ("code", "name")
    list_select_related = ("department",)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("kind", "original_name", "status", "processed_rows", "total_rows")
    list_filter = ("kind", "status")
