from django.contrib import admin

from .models import Department, Region, ServiceCenter, StaffAssignment, Window


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "functional_area", "official_code")
    list_filter = ("level", "official_code")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0
    autocomplete_fields = ("department",)


@admin.register(ServiceCenter)
class ServiceCenterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "region", "has_self_service_area", "active")
    list_filter = ("level", "has_self_service_area", "active")
    search_fields = ("code", "name", "address")
    raw_id_fields = ("region",)
    inlines = [WindowInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "short_name", "level", "region")
    list_filter = ("level",)
    search_fields = ("code", "name", "short_name")
    raw_id_fields = ("region",)


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin):
    list_display = ("center", "number", "kind", "department", "active")
    list_filter = ("kind", "active")
    search_fields = ("center__name", "number")
    raw_id_fields = ("center", "department")


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region", "center", "department", "active")
    list_filter = ("role", "active")
    search_fields = ("user__username", "user__display_name")
    raw_id_fields = ("user", "region", "center", "department")
