"""GET /models: the public catalog, filtered and paged, with nothing private in it."""

from __future__ import annotations

import httpx

from rivya.runtime import Runtime
from rivya_models.models import ModelList
from tests.conftest import Tenant


async def test_lists_a_model_of_every_kind(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/models", headers=tenant.headers)
    assert response.status_code == 200
    page = ModelList.model_validate(response.json())
    assert {m.kind.value for m in page.data} == {"image", "video", "audio", "chat"}
    assert [m.id for m in page.data] == sorted(m.id for m in page.data)
    assert page.has_more is False
    for model in page.data:
        assert model.object == "model" and model.owned_by == "rivya"
        assert model.parameters["type"] == "object"
    assert "provider" not in response.text and "local-image" not in response.text


async def test_filters_by_kind(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/models", params={"kind": "video"}, headers=tenant.headers)
    assert [m["id"] for m in response.json()["data"]] == ["rivya-video-dev"]


async def test_pages_with_a_cursor(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    seen: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 1}
        if after:
            params["after"] = after
        page = (await client.get("/models", params=params, headers=tenant.headers)).json()
        assert len(page["data"]) <= 1
        seen += [m["id"] for m in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert seen == [m.id for m in runtime.catalog.models]


async def test_an_openai_client_can_list_models(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The fields OpenAI's `models.list()` reads are present."""
    for model in (await client.get("/models", headers=tenant.headers)).json()["data"]:
        assert isinstance(model["created"], int) and model["object"] == "model"
        assert isinstance(model["owned_by"], str)
