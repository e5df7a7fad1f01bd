from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_role_groups(sender: AppConfig, **kwargs: object) -> None:
    from productions.roles import role_groups_ensure

    role_groups_ensure()


class CreativeEngineConfig(AppConfig):
    name = "creative_engine"
    verbose_name = "Creative Engine (cycles)"

    def ready(self) -> None:
        # Permissions are created in post_migrate; this app migrates last, so every
        # permission the groups need exists by the time its signal fires.
        post_migrate.connect(
            _ensure_role_groups, sender=self, dispatch_uid="role_groups"
        )
