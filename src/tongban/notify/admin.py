from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Notification, WebhookDelivery, WebhookSubscription
from .webhooks import resend


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "kind", "subject", "status")
    list_filter = ("channel", "status", "kind")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "url", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url", "department__name")


@admin.action(description=_("重新推送所选记录"))
def resend_selected(modeladmin, request, queryset):
    for delivery in queryset.select_related("subscription", "case"):
        resend(delivery, by=request.user, request=request)
    messages.success(request, _("已重新排队推送 %(n)s 条。") % {"n": queryset.count()})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    )
    list_filter = ("status", "event")
    search_fields = ("uid", "case__number")
    actions = [resend_selected]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
