"""The OpenAPI schema: valid without warnings, complete, and true to the server.

The schemathesis run fuzzes every operation (positive data, a bounded number of
examples each) through the WSGI app as a manager, and checks: no server error, every
status and body as documented, and authentication actually enforced (`ignored_auth`
replays successful calls without and with bad credentials).
"""

import json
from collections import Counter

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_client
from tests.factories import (
    FULL_BATCH,
    CycleRunFactory,
    PromotionLogFactory,
    VariantFactory,
    master_with_approved_cuts,
)

# Examples per operation: enough to reach the validation branches, bounded so the whole
# run stays well under a minute in CI.
EXAMPLES_PER_OPERATION = 12


def api_schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
    )


def test_every_operation_documents_its_request_and_success_response():
    schema = api_schema()
    gaps = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            success = [c for c in operation["responses"] if c.startswith("2")]
            if not success:
                gaps.append(f"{method.upper()} {path}: no success response")
            for code in success:
                if code != "204" and "content" not in operation["responses"][code]:
                    gaps.append(f"{method.upper()} {path} {code}: no response schema")
            takes_body = method in {"post", "patch"}
            single_action = path.endswith(("}/approve/", "}/reject/"))
            if takes_body and not single_action and "requestBody" not in operation:
                gaps.append(f"{method.upper()} {path}: no request schema")
            for code in ("401", "403"):
                if code not in operation["responses"]:
                    gaps.append(f"{method.upper()} {path}: {code} undocumented")
    assert not gaps, gaps
    assert len(schema["paths"]) >= 21  # six engine endpoints + the resources


def test_the_served_schema_needs_a_role(manager_api, anonymous_api, outsider_api):
    assert anonymous_api.get("/api/schema/").status_code == 401
    assert outsider_api.get("/api/schema/").status_code == 403
    served = manager_api.get("/api/schema/?format=json")
    assert served.status_code == 200
    assert "/meta/creative-engine/status" in served.json()["paths"]


STATUSES: dict[str, Counter] = {}

# Which real object a path parameter names, by the path's first segment after the prefix.
PINNED_OBJECT = {
    "productions": "master",
    "fragments": "fragment",
    "variants": "variant",
    "promotion-logs": "log",
    "runs": "run",
    "generate": "master",
    "promote": "variant",
}


def pinned_ids(method: str, path: str, objects: dict[str, str]) -> dict[str, str]:
    """Path parameters set to a real object, so fuzzing reaches past the 404."""
    segment = path.removeprefix("/api/").removeprefix("/meta/creative-engine/")
    kind = PINNED_OBJECT.get(segment.split("/")[0])
    if segment.startswith("variants/{creative_id}"):
        kind = "master"
    if kind is None:
        return {}
    if kind == "fragment" and method == "DELETE":
        kind = "fragment_to_delete"  # the others keep theirs to approve and reject
    return {name: objects[kind] for name in ("id", "creative_id", "variant_id")}


def fuzz(operation, *, headers: dict, checks: list, objects: dict[str, str]) -> None:
    """Call one operation with generated cases (half of them aimed at real objects),
    validating each response."""
    generated = operation.as_strategy()
    pins = pinned_ids(operation.method.upper(), operation.path, objects)

    def pin(case):
        if case.path_parameters:
            case.path_parameters = {
                k: pins.get(k, v) for k, v in case.path_parameters.items()
            }
        return case

    # The schema's own request examples are tried too (they pass the validation that
    # random data rarely does, so the success paths get fuzzed responses as well).
    examples = operation.get_strategies_from_examples()
    cases = st.one_of(generated, generated.map(pin), *[e.map(pin) for e in examples])

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=cases)
    def run(case):
        response = case.call_and_validate(headers=headers, checks=checks)
        STATUSES.setdefault(operation.label, Counter())[response.status_code] += 1

    run()


@pytest.fixture
def wsgi_app():
    """The real WSGI handler, kept on the test's database connection (as Django's
    test client does, the per-request connection cleanup is switched off)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_schemathesis_finds_no_server_error_schema_violation_or_ignored_auth(
    wsgi_app, manager_user
):
    # Given real objects for the generated ids to sometimes miss and the app in-process
    master = master_with_approved_cuts(sheet=FULL_BATCH)
    variant = VariantFactory(parent=master, status="rendered")
    objects = {
        "master": str(master.pk),
        "fragment": str(master.fragment_set.first().pk),
        "fragment_to_delete": str(master.fragment_set.last().pk),
        "variant": str(variant.pk),
        "log": str(PromotionLogFactory(variant=variant).pk),
        "run": str(CycleRunFactory().pk),
    }
    token = token_client(manager_user)._credentials["HTTP_AUTHORIZATION"]
    schema = schemathesis.openapi.from_dict(api_schema())
    schema.app = wsgi_app
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        ignored_auth,
    ]
    failures: list[str] = []

    # When every operation is fuzzed with positive data as a manager
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz(
                operation,
                headers={"Authorization": token},
                checks=checks,
                objects=objects,
            )
        except (Exception, BaseExceptionGroup) as exc:  # report every operation
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}"[:3000])

    # Then nothing failed, and every operation was reached
    assert not failures, "\n\n".join(failures)
    assert set(STATUSES) == {r.ok().label for r in schema.get_all_operations()}
