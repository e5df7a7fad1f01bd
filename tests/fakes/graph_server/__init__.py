"""A stateful fake of Meta's Graph / Marketing API on loopback, for offline tests.

A real `ThreadingHTTPServer` on 127.0.0.1, so clients are exercised down to the
socket: the live `GraphMetaClient` and the official facebook-business SDK both
talk to it. It follows the wire facts of /work/shared/meta-graph-api.md:
version in the path (`v\\d+\\.\\d+`), `/x/` ≡ `/x`, auth from query, form or
`Authorization: OAuth`, JSON-encoded object params, `{"id": ...}` for creates,
`{"success": true}` for updates, cursor paging with `next` omitted on the last
page, an `error` envelope on every failure, chunked video upload with string
offsets and 6001/1363037 naming the offsets to resume at, the adimages response
keyed by filename, the 4-budget-changes-per-hour limit (code 17), and ads that
must say their status.

Faults are injected per method and path regex (the path without version, e.g.
``act_\\d+/ads$``): errors, slow answers, lost answers and throttles.

    server = FakeGraphServer()
    with server:
        server.faults.lose_response_next("POST", r"act_\\d+/ads$")
        ...

The modules: `server` (the HTTP server and its auth and version checks), `handler`
(the wire: recording requests, playing faults), `faults`, `state` (what the fake
holds, seeding helpers), `wire` (request decoding), `errors` (Meta's envelope),
`routing` (dispatch, paging, projection, filtering) and one module of routes per
resource: `videos`, `images`, `creatives`, `ads`, `adsets`, `insights`, gathered
in `routes`.
"""

from tests.fakes.graph_server.errors import (
    GraphError,
    buc_usage_header,
    graph_error_body,
)
from tests.fakes.graph_server.faults import Fault, FaultQueue
from tests.fakes.graph_server.server import FakeGraphServer, appsecret_proof
from tests.fakes.graph_server.state import FakeGraphState, days
from tests.fakes.graph_server.wire import RecordedRequest, parse_multipart

__all__ = [
    "FakeGraphServer",
    "FakeGraphState",
    "Fault",
    "FaultQueue",
    "GraphError",
    "RecordedRequest",
    "appsecret_proof",
    "buc_usage_header",
    "days",
    "graph_error_body",
    "parse_multipart",
]
