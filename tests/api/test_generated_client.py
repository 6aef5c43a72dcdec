"""The generated Python client (generated/rivya-client) talks to the server and parses its
answers, errors included."""

from __future__ import annotations

import httpx

from rivya.runtime import Runtime
from rivya_client import AuthenticatedClient
from rivya_client.api.credits_ import get_credits
from rivya_client.api.models import list_models
from rivya_client.models import Credits, ModelList, Problem
from tests.conftest import Tenant


def sdk(client: httpx.AsyncClient, token: str) -> AuthenticatedClient:
    api = AuthenticatedClient(base_url=str(client.base_url), token=token)
    api.set_async_httpx_client(client)
    client.headers["Authorization"] = f"Bearer {token}"
    return api


async def test_lists_models_and_reads_credits(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    api = sdk(client, tenant.secret)
    page = await list_models.asyncio(client=api, kind="image")
    assert isinstance(page, ModelList)
    assert "rivya-image-dev" in [m.id for m in page.data]
    assert {m.kind for m in page.data} == {"image"}
    wallet = await get_credits.asyncio(client=api)
    assert isinstance(wallet, Credits) and wallet.available == 1000


async def test_parses_problems(client: httpx.AsyncClient) -> None:
    api = sdk(client, "rvya_sk_wrong")
    response = await get_credits.asyncio_detailed(client=api)
    assert response.status_code == 401
    assert isinstance(response.parsed, Problem) and response.parsed.code == "malformed_api_key"
