from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generation import Generation
from ...models.generation_create import GenerationCreate
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: GenerationCreate,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(prefer, Unset):
        headers["Prefer"] = prefer

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/generations",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Generation | Problem | None:
    if response.status_code == 200:
        response_200 = Generation.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = Generation.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = Problem.from_dict(response.json())

        return response_402

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Generation | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: GenerationCreate,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Response[Generation | Problem]:
    """Submit a generation

     Start an asynchronous image, video or audio generation. `input` must satisfy the model's
    `parameters` schema (see `GET /models`); fields such as `reference_image` take the id of
    a file uploaded to this account. The price (from the model's pricing and the input) is
    reserved as the task is created; without enough available credits the answer is 402 and
    no task is made. A success charges the reservation; a failure or cancellation refunds it.
    Every output is checked before it is kept, as an upload is: its type is read from its
    bytes and must be of the model's kind (an image model makes PNG, JPEG, GIF or WebP
    images), within the server's output size and image pixel limits. A model that hands back
    anything else fails the task with `upstream_bad_response`, refunded.

    The answer is 202 with the queued task. Poll `GET /generations/{taskId}` or subscribe to
    webhooks. To wait instead, send `Prefer: wait=N` (N up to 60 seconds): the answer is then
    held until the task ends (200) or N seconds pass (202, still in progress).

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):  Example: wait=30.
        body (GenerationCreate): A generation to start. Example: {'model': 'rivya-image-dev',
            'input': {'prompt': 'a red fox in the snow', 'width': 512, 'height': 512}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Generation | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: GenerationCreate,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Generation | Problem | None:
    """Submit a generation

     Start an asynchronous image, video or audio generation. `input` must satisfy the model's
    `parameters` schema (see `GET /models`); fields such as `reference_image` take the id of
    a file uploaded to this account. The price (from the model's pricing and the input) is
    reserved as the task is created; without enough available credits the answer is 402 and
    no task is made. A success charges the reservation; a failure or cancellation refunds it.
    Every output is checked before it is kept, as an upload is: its type is read from its
    bytes and must be of the model's kind (an image model makes PNG, JPEG, GIF or WebP
    images), within the server's output size and image pixel limits. A model that hands back
    anything else fails the task with `upstream_bad_response`, refunded.

    The answer is 202 with the queued task. Poll `GET /generations/{taskId}` or subscribe to
    webhooks. To wait instead, send `Prefer: wait=N` (N up to 60 seconds): the answer is then
    held until the task ends (200) or N seconds pass (202, still in progress).

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):  Example: wait=30.
        body (GenerationCreate): A generation to start. Example: {'model': 'rivya-image-dev',
            'input': {'prompt': 'a red fox in the snow', 'width': 512, 'height': 512}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Generation | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: GenerationCreate,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Response[Generation | Problem]:
    """Submit a generation

     Start an asynchronous image, video or audio generation. `input` must satisfy the model's
    `parameters` schema (see `GET /models`); fields such as `reference_image` take the id of
    a file uploaded to this account. The price (from the model's pricing and the input) is
    reserved as the task is created; without enough available credits the answer is 402 and
    no task is made. A success charges the reservation; a failure or cancellation refunds it.
    Every output is checked before it is kept, as an upload is: its type is read from its
    bytes and must be of the model's kind (an image model makes PNG, JPEG, GIF or WebP
    images), within the server's output size and image pixel limits. A model that hands back
    anything else fails the task with `upstream_bad_response`, refunded.

    The answer is 202 with the queued task. Poll `GET /generations/{taskId}` or subscribe to
    webhooks. To wait instead, send `Prefer: wait=N` (N up to 60 seconds): the answer is then
    held until the task ends (200) or N seconds pass (202, still in progress).

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):  Example: wait=30.
        body (GenerationCreate): A generation to start. Example: {'model': 'rivya-image-dev',
            'input': {'prompt': 'a red fox in the snow', 'width': 512, 'height': 512}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Generation | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: GenerationCreate,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Generation | Problem | None:
    """Submit a generation

     Start an asynchronous image, video or audio generation. `input` must satisfy the model's
    `parameters` schema (see `GET /models`); fields such as `reference_image` take the id of
    a file uploaded to this account. The price (from the model's pricing and the input) is
    reserved as the task is created; without enough available credits the answer is 402 and
    no task is made. A success charges the reservation; a failure or cancellation refunds it.
    Every output is checked before it is kept, as an upload is: its type is read from its
    bytes and must be of the model's kind (an image model makes PNG, JPEG, GIF or WebP
    images), within the server's output size and image pixel limits. A model that hands back
    anything else fails the task with `upstream_bad_response`, refunded.

    The answer is 202 with the queued task. Poll `GET /generations/{taskId}` or subscribe to
    webhooks. To wait instead, send `Prefer: wait=N` (N up to 60 seconds): the answer is then
    held until the task ends (200) or N seconds pass (202, still in progress).

    Args:
        idempotency_key (str | Unset):
        prefer (str | Unset):  Example: wait=30.
        body (GenerationCreate): A generation to start. Example: {'model': 'rivya-image-dev',
            'input': {'prompt': 'a red fox in the snow', 'width': 512, 'height': 512}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Generation | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            prefer=prefer,
        )
    ).parsed
