"""Fixtures shared by the console tests."""

import pytest


@pytest.fixture
def staff_manager(client, manager_user):
    """A client logged in as a manager who may enter the admin."""
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.force_login(manager_user)
    return client
