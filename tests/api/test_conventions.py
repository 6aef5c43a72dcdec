"""Conventions every operation shares: request ids, problem documents, no 5xx for bad input."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from openapi_spec_validator import validate

from tests.api.test_auth import assert_problem
from tests.conftest import Tenant

SPEC = Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"


async def test_every_response_has_a_unique_request_id(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    responses = [
        await client.get("/models", headers=tenant.headers),
        await client.get("/credits"),
        await client.get("/no-such-thing"),
        await client.delete("/models", headers=tenant.headers),
        await client.get("/openapi.json"),
    ]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(i.startswith("req_") for i in ids) and len(set(ids)) == len(ids)


async def test_unknown_paths_and_methods_are_problems(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert_problem(await client.get("/no-such-thing", headers=tenant.headers), 404, "not_found")
    response = await client.post("/models", headers=tenant.headers, json={})
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_bad_query_parameters_name_the_parameter(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for query, name in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("kind=videos", "kind"),
        ("after=%00", "after"),
    ]:
        response = await client.get(f"/models?{query}", headers=tenant.headers)
        body = assert_problem(response, 400, "invalid_request")
        assert f"'{name}'" in str(body["detail"])
    body = assert_problem(
        await client.get("/models?colour=red", headers=tenant.headers), 400, "invalid_request"
    )
    assert "colour" in str(body["detail"])


async def test_bodies_that_are_not_utf8_are_bad_requests(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.request(
        "GET",
        "/credits",
        headers={**tenant.headers, "Content-Type": "application/json"},
        content=b'{"x": "\xff\xfe"}',
    )
    assert response.status_code < 500


async def test_the_served_spec_is_the_contract(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served == yaml.safe_load(SPEC.read_text())
    validate(served)


def test_every_schema_has_a_title_and_an_example() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    for name, schema in spec["components"]["schemas"].items():
        assert schema.get("title") == name, name
        assert "example" in schema, name
