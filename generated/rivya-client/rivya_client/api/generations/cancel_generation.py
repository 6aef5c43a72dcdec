from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generation import Generation
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    task_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/generations/{task_id}/cancel".format(
            task_id=quote(str(task_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Generation | Problem | None:
    if response.status_code == 200:
        response_200 = Generation.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Generation | Problem]:
    """Cancel a generation

     A queued task is canceled and refunded at once. For a running task the model is asked to
    stop; the answer waits a few seconds for that, and shows `cancel_requested: true` if the
    task is still running when it comes. A task that has already ended is a 409
    `generation_finished`, and so is one that the model completed (or that failed) before the
    cancellation took effect, even after it was asked for: the task keeps that outcome and its
    charge, and `GET` shows it with `cancel_requested: true`.

    Args:
        task_id (str):  Example: task_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Generation | Problem]
    """

    kwargs = _get_kwargs(
        task_id=task_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Generation | Problem | None:
    """Cancel a generation

     A queued task is canceled and refunded at once. For a running task the model is asked to
    stop; the answer waits a few seconds for that, and shows `cancel_requested: true` if the
    task is still running when it comes. A task that has already ended is a 409
    `generation_finished`, and so is one that the model completed (or that failed) before the
    cancellation took effect, even after it was asked for: the task keeps that outcome and its
    charge, and `GET` shows it with `cancel_requested: true`.

    Args:
        task_id (str):  Example: task_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Generation | Problem
    """

    return sync_detailed(
        task_id=task_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Generation | Problem]:
    """Cancel a generation

     A queued task is canceled and refunded at once. For a running task the model is asked to
    stop; the answer waits a few seconds for that, and shows `cancel_requested: true` if the
    task is still running when it comes. A task that has already ended is a 409
    `generation_finished`, and so is one that the model completed (or that failed) before the
    cancellation took effect, even after it was asked for: the task keeps that outcome and its
    charge, and `GET` shows it with `cancel_requested: true`.

    Args:
        task_id (str):  Example: task_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Generation | Problem]
    """

    kwargs = _get_kwargs(
        task_id=task_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Generation | Problem | None:
    """Cancel a generation

     A queued task is canceled and refunded at once. For a running task the model is asked to
    stop; the answer waits a few seconds for that, and shows `cancel_requested: true` if the
    task is still running when it comes. A task that has already ended is a 409
    `generation_finished`, and so is one that the model completed (or that failed) before the
    cancellation took effect, even after it was asked for: the task keeps that outcome and its
    charge, and `GET` shows it with `cancel_requested: true`.

    Args:
        task_id (str):  Example: task_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Generation | Problem
    """

    return (
        await asyncio_detailed(
            task_id=task_id,
            client=client,
        )
    ).parsed
