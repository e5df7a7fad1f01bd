from django.apps import AppConfig


class ProductionsConfig(AppConfig):
    name = "productions"
    verbose_name = "Productions (human inputs)"

    def ready(self) -> None:
        from django.contrib import admin

        from productions.login_form import BoundedAdminAuthenticationForm

        # The admin's login: bounded fields, refused before any lookup or write.
        admin.site.login_form = BoundedAdminAuthenticationForm
