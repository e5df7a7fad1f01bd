"""Changelist column headers, built once per page instead of once per row.

unfold 0.91's `items_for_result` regenerates every column header for each row it
renders (`result_headers(cl)`: field inspection, the select-all checkbox widget, three
query strings per sortable column), to label the cells on narrow screens. A page of
100 fragments × 17 columns paid for 1,800 header builds, a third of the page's time.
Upstream's fix passes the headers down (unfoldadmin/django-unfold#2171); until a
release carries it, the headers of a changelist are kept on it once built. They
depend only on the changelist (its columns, ordering and query string).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unfold.templatetags import unfold_list

_build_headers = unfold_list.result_headers
_HEADERS = "_console_result_headers"


def result_headers_once(cl: Any) -> Iterator[dict[str, Any]]:
    headers = cl.__dict__.get(_HEADERS)
    if headers is None:
        headers = list(_build_headers(cl))
        cl.__dict__[_HEADERS] = headers
    return iter(headers)


unfold_list.result_headers = result_headers_once
