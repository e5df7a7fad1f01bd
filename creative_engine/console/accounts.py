"""People and API tokens, on the console's theme.

Django's and DRF's own admin classes are re-registered on unfold's ModelAdmin (and its
password forms), so these pages look and behave like the rest of the console; the
permission checks stay Django's: only someone with auth's change permissions edits
people or groups.
"""

from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from creative_engine.console.registry import reregister


class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


class TokenAdmin(BaseTokenAdmin, ModelAdmin):
    pass


reregister(User, UserAdmin)
reregister(Group, GroupAdmin)
reregister(TokenProxy, TokenAdmin)
