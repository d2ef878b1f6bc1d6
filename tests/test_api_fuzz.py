"""Fuzz the HTTP API from its own OpenAPI document (schemathesis): no input makes it fail.

Schemathesis generates valid and invalid requests for every operation and checks each response:
never a 5xx, a status code and body the document declares, invalid data rejected, and requests
without the token refused. The requests go to a real ``pmem serve`` process with a token set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi", reason="needs the server extra")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from persona_memory.api import create_app  # noqa: E402
from tests.helpers.servers import Server, pmem_env, running_server  # noqa: E402

TOKEN = "fuzz-token"
EXAMPLES = int(os.environ.get("PMEM_FUZZ_EXAMPLES", "25"))  # per operation; bench/fuzz.py runs more

# The document the server publishes, built by the same code; the first test checks they are equal.
# (schemathesis' lazy pytest loader does not work with pytest 9, so the schema is loaded eagerly.)
DOCUMENT = create_app().openapi()
# schemathesis sends the token itself (declared per security scheme), so it knows which requests
# lack it on purpose and expects 401 for those
CONFIG = schemathesis.Config.from_dict({"auth": {"openapi": {"HTTPBearer": {"bearer": TOKEN}}}})
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("fuzz") / "memory-base"
    with running_server(base, env=pmem_env(base, MEMORY_API_KEY=TOKEN)) as server:
        yield server


def test_the_fuzzed_document_is_the_one_the_server_publishes(fuzz_server: Server) -> None:
    with fuzz_server.client() as http:
        assert http.get("/openapi.json").json() == DOCUMENT


STATUSES: dict[str, list[int]] = {}  # operation -> statuses seen, for the last test


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case: Any, fuzz_server: Server) -> None:
    response = case.call_and_validate(
        base_url=fuzz_server.url,
        # The library checks meaning the schema cannot express (a date must exist, content must not
        # be blank), so a schema-valid request may rightly get a 400. Every other check runs.
        excluded_checks=[positive_data_acceptance],
    )
    STATUSES.setdefault(case.operation.definition.raw["operationId"], []).append(response.status_code)


def test_the_fuzzer_got_through_to_every_operation() -> None:
    """Not vacuous: the token was sent, so requests reached every operation (not just a 401)."""
    assert len(STATUSES) == sum(len(item) for item in DOCUMENT["paths"].values()), "run the whole module"
    for name, statuses in STATUSES.items():
        assert any(s not in (401, 403) for s in statuses), (name, sorted(set(statuses)))
        assert all(s < 500 for s in statuses), (name, sorted(set(statuses)))
    assert sum(200 <= s < 300 for statuses in STATUSES.values() for s in statuses) > 100
