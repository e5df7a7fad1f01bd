"""The two roles of the product, as Django groups, and the permissions each holds."""

from django.contrib.auth.models import (
    AbstractBaseUser,
    AnonymousUser,
    Group,
    Permission,
)

ADMIN_GROUP = "admin"
MANAGER_GROUP = "manager"

# Managers run the engine day to day: they upload masters, approve fragments and watch
# variants, but the authorized pixels, subgenres and genre are the admins' call.
_MANAGER_PERMISSIONS = {
    "productions": [
        "add_creativeproduction",
        "change_creativeproduction",
        "view_creativeproduction",
        "add_creativefragment",
        "change_creativefragment",
        "delete_creativefragment",
        "view_creativefragment",
        "view_approvalaudit",
    ],
    "variants": ["view_creativevariant", "change_creativevariant"],
    "promotion": ["view_promotionlog", "view_variantdailymetric"],
    "creative_engine": ["view_cyclerun"],
    "django_celery_beat": ["view_periodictask", "view_crontabschedule"],
}
_ADMIN_EXTRA_PERMISSIONS = {
    "productions": ["delete_creativeproduction", "change_authorization"],
    "django_celery_beat": ["change_periodictask"],
}


def _permissions(spec: dict[str, list[str]]) -> list[Permission]:
    found: list[Permission] = []
    for app_label, codenames in spec.items():
        found.extend(
            Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        )
    return found


def role_groups_ensure() -> None:
    """Create the groups and give them their permissions (run after every migrate)."""
    manager, _ = Group.objects.get_or_create(name=MANAGER_GROUP)
    manager_perms = _permissions(_MANAGER_PERMISSIONS)
    manager.permissions.add(*manager_perms)
    admin, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    admin.permissions.add(*manager_perms, *_permissions(_ADMIN_EXTRA_PERMISSIONS))


def _group_names(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    cached = getattr(user, "_engine_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
        user._engine_group_names = cached  # type: ignore[union-attr]
    return cached


def is_engine_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(getattr(user, "is_superuser", False)) or ADMIN_GROUP in _group_names(
        user
    )


def has_engine_role(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool({ADMIN_GROUP, MANAGER_GROUP} & _group_names(user))
