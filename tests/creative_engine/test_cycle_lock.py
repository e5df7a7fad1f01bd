"""The cycle lock's own connection: a database that is down is an outage (Django's
OperationalError, which tasks retry), not a crash of the task."""

import pytest
from django.db import OperationalError, connection

from creative_engine.locks import cycle_lock
from tests.integration.private_servers import free_port


@pytest.mark.django_db
def test_the_lock_on_a_database_that_is_down_is_an_outage_tasks_retry(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the advisory lock's own connection is PostgreSQL's")
    # Given nothing listening where the database should be
    monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))

    # When a cycle takes the lock, then Django's outage error (not psycopg2's)
    with pytest.raises(OperationalError, match="cycle lock"), cycle_lock():
        pass
