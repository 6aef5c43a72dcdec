"""The error renderer on a small connexion app with a JSON body: bad bytes are 4xx, never 5xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition

from rivya.errors import InsufficientCredits, NotFound
from rivya.web import problems
from rivya.web.request_context import RequestContextMiddleware

SPEC = """
openapi: 3.0.3
info: {title: echo, version: "1"}
paths:
  /echo:
    post:
      operationId: tests.unit.test_problems.echo
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, properties: {n: {type: integer}}, required: [n]}
      responses:
        '200': {description: ok}
"""


async def echo(body: dict[str, Any]) -> dict[str, Any]:
    if body["n"] == 404:
        raise NotFound("No echo 404 has been found.")
    if body["n"] == 402:
        raise InsufficientCredits(needed=5, available=2)
    if body["n"] == 500:
        raise ZeroDivisionError("a bug")
    return body


@pytest.fixture
def echo_client(tmp_path: Path) -> httpx.AsyncClient:
    (tmp_path / "echo.yaml").write_text(SPEC)
    app = AsyncApp(__name__)
    app.add_api(tmp_path / "echo.yaml")
    problems.register(app)
    app.add_middleware(
        RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, runtime=None
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize(
    "body",
    [b'{"n": "\xff"}', b"\xff\xfe\xfd", b'{"n": 1', b"[]", b"null", b'{"n": "one"}', b""],
)
async def test_bad_bodies_are_client_errors(echo_client: httpx.AsyncClient, body: bytes) -> None:
    response = await echo_client.post(
        "/echo", content=body, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    problem = response.json()
    assert problem["code"] == "invalid_request"
    assert problem["request_id"] == response.headers["x-request-id"]


async def test_domain_errors_map_to_their_status(echo_client: httpx.AsyncClient) -> None:
    not_found = await echo_client.post("/echo", json={"n": 404})
    assert (not_found.status_code, not_found.json()["code"]) == (404, "not_found")
    broke = await echo_client.post("/echo", json={"n": 402})
    assert (broke.status_code, broke.json()["code"]) == (402, "insufficient_credits")


async def test_a_bug_is_a_500_without_a_traceback(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post("/echo", json={"n": 500})
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    assert "ZeroDivisionError" not in response.text and "Traceback" not in response.text
