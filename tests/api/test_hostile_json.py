"""Hostile JSON is a 400 `invalid_json` before any work, on every operation with a JSON body.

The operations come from the spec, so a new one is covered without touching this file. Each
example takes an operation's documented example body and puts one hostile value in a random place
(a value, an element, the whole body, or a key): non-finite or overflowing numbers, integers past
64 bits, nesting past the limit, lone surrogates and NUL. The answer must be the problem, and no
row of any table may have changed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import func, select

from rivya.settings import Settings
from rivya.store import tables
from rivya.store.db import Database
from rivya.web.strict_json import MAX_DEPTH
from tests.api.test_auth import assert_problem
from tests.conftest import Tenant, write_catalog

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml").read_text(encoding="utf-8")
)
MARK = "@@hostile@@"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = SPEC["components"][section][name]
    return node


def _json_operations() -> Iterator[tuple[str, str, Any]]:
    """(method, path with example ids, example body) of every operation taking JSON."""
    for template, item in SPEC["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            content = _resolve(operation.get("requestBody", {})).get("content", {})
            if "application/json" not in content:
                continue
            schema = _resolve(content["application/json"]["schema"])
            path = template
            for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
                parameter = _resolve(parameter)
                if parameter["in"] == "path":
                    example = parameter["schema"]["example"]
                    path = path.replace("{" + parameter["name"] + "}", example)
            yield method.upper(), path, schema["example"]


OPERATIONS = list(_json_operations())
NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E309", "0.5e99999"]
HOSTILE_VALUES = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(19, 6000).map(lambda n: "9" * n),
    st.integers(19, 6000).map(lambda n: "-" + "9" * n),
    st.integers(0xD800, 0xDFFF).map(lambda c: f'"x\\u{c:04x}y"'),
    st.sampled_from(['"\\u0000"', '"a\\u0000b"', '["\\ud83d"]']),
    st.integers(MAX_DEPTH + 1, 20_000).map(lambda d: "[" * d + "]" * d),
    st.integers(MAX_DEPTH, 3000).map(lambda d: '{"a":' * d + "[]" + "}" * d),
)
HOSTILE_KEYS = st.one_of(
    st.integers(0xD800, 0xDFFF).map(lambda c: f'"k\\u{c:04x}"'), st.just('"k\\u0000"')
)


def _slots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value in `value`, itself included."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _slots(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _slots(item, (*path, index))


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _hostile_body(data: st.DataObject, example: Any) -> str:
    """The example with one hostile value or key written into it."""
    body = copy.deepcopy(example)
    dicts = [p for p in _slots(body) if isinstance(_at(body, p), dict)]
    if dicts and data.draw(st.booleans(), label="as a key"):
        _at(body, data.draw(st.sampled_from(dicts), label="in"))[MARK] = 1
        return json.dumps(body).replace(f'"{MARK}"', data.draw(HOSTILE_KEYS, label="key"))
    path = data.draw(st.sampled_from(list(_slots(body))), label="at")
    if path:
        _at(body, path[:-1])[path[-1]] = MARK
    else:
        body = MARK
    return json.dumps(body).replace(f'"{MARK}"', data.draw(HOSTILE_VALUES, label="value"))


async def _rows(database: Database) -> dict[str, Any]:
    """Every table's row count and every wallet: what any work would change."""
    async with database.read() as conn:
        counts: dict[str, Any] = {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar()
            for table in tables.metadata.sorted_tables
        }
        counts["wallets"] = (await conn.execute(select(tables.wallets))).all()
    return counts


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Unlimited requests: the examples would otherwise run into the account's rate limit."""
    return Settings(data_dir=tmp_path, catalog=write_catalog(tmp_path), rate_limit="")


def test_every_json_operation_is_covered() -> None:
    covered = {(method, path.split("/")[1]) for method, path, _ in OPERATIONS}
    assert ("POST", "generations") in covered and ("POST", "chat") in covered
    assert len(OPERATIONS) >= 6


@pytest.mark.parametrize(("method", "path", "example"), OPERATIONS, ids=lambda x: str(x)[:40])
@examples(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_hostile_json_is_refused_before_any_work(
    method: str,
    path: str,
    example: Any,
    data: st.DataObject,
    client: httpx.AsyncClient,
    tenant: Tenant,
    database: Database,
) -> None:
    body = _hostile_body(data, example)
    before = await _rows(database)
    response = await client.request(
        method,
        path,
        content=body.encode("utf-8"),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "invalid_json")
    assert await _rows(database) == before


@pytest.mark.parametrize(("method", "path", "example"), OPERATIONS, ids=lambda x: str(x)[:40])
async def test_the_examples_pass_the_parser(
    method: str, path: str, example: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # Without the hostile value, the same bodies go on to the operation itself.
    response = await client.request(method, path, json=example, headers=tenant.headers)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["code"] != "invalid_json"


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/generations", '{"model": "rivya-audio-dev", "input": {"duration": NaN}}', "NaN"),
        ("/generations", '{"model": "rivya-image-dev", "input": {"seed": 1%s}}' % ("0" * 5000), ""),
        ("/chat/completions", '{"model": "rivya-chat-dev", "temperature": 1e400}', "1e400"),
        ("/chat/completions", '{"model": "rivya-chat-dev", "presence_penalty": -Infinity}', ""),
        (
            "/chat/completions",
            '{"model": "rivya-chat-dev", "messages": [{"role": "user", "content": "hi", '
            '"name": "\\ud800"}]}',
            "$.messages[0].name",
        ),
        (
            "/webhooks",
            '{"url": "https://example.com/hook", "description": "a\\u0000b"}',
            "$.description",
        ),
        (
            "/chat/completions",
            '{"model": "rivya-chat-dev", "x": %s}' % ("[" * 1000 + "]" * 1000),
            "",
        ),
        ("/chat/completions", '{"a": %s}' % ("[" * MAX_DEPTH + "]" * MAX_DEPTH), "64 levels"),
    ],
)
async def test_the_reported_cases(
    path: str, body: str, where: str, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        path, content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    problem = assert_problem(response, 400, "invalid_json")
    assert where in str(problem["detail"])


async def test_nesting_up_to_the_limit_is_parsed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    body = '{"model": "rivya-chat-dev", "messages": ' + nested + "}"
    response = await client.post(
        "/chat/completions",
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    # Refused by the schema (messages are objects), not by the parser.
    assert_problem(response, 400, "invalid_request")


async def test_query_and_path_parameters_cannot_carry_nul(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for url, name in [
        ("/generations?model=a%00b", "model"),
        ("/generations?after=task_a%00", "after"),
        ("/chat/sessions?after=%00", "after"),
        ("/generations/task_a%00b", "taskId"),
        ("/webhooks/whep_%00", "endpointId"),
    ]:
        response = await client.get(url, headers=tenant.headers)
        problem = assert_problem(response, 400, "invalid_request")
        assert f"'{name}'" in str(problem["detail"]), url
