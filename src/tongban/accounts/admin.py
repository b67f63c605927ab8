from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from tongban.org.models import StaffAssignment

from .models import ApiToken, Applicant, User


class AssignmentInline(admin.TabularInline):
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ("region", "center", "department")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "kind", "is_active", "last_login")
    list_filter = ("kind", "is_active", "is_superuser")
    search_fields = ("username", "display_name")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("通办"), {"fields": ("kind", "display_name", "mobile")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("通办"), {"fields": ("kind", "display_name", "mobile")}),
    )
    inlines = [AssignmentInline]


@admin.register(Applicant)
class ApplicantAdmin(admin.ModelAdmin):
    list_display = ("masked_name", "kind", "masked_identity", "masked_mobile", "created_at")
    list_filter = ("kind",)
    search_fields = ("=id_number", "=uscc", "name")
    raw_id_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "label", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "digest", "created_at", "expires_at", "last_used_at")
    list_filter = ("revoked_at",)
