"""CRUD resources under /api/."""

urlpatterns: list = []
