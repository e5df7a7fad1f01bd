from django.contrib.auth.models import Group


def test_migrate_creates_admin_and_manager_groups(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert {"admin", "manager"} <= names
