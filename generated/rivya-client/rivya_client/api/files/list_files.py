from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.file_list import FileList
from ...models.file_purpose import FilePurpose
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    purpose: FilePurpose | Unset = UNSET,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_purpose: str | Unset = UNSET
    if not isinstance(purpose, Unset):
        json_purpose = purpose

    params["purpose"] = json_purpose

    params["limit"] = limit

    params["after"] = after

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/files",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> FileList | Problem | None:
    if response.status_code == 200:
        response_200 = FileList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[FileList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    purpose: FilePurpose | Unset = UNSET,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> Response[FileList | Problem]:
    """List files

     The account's files, newest first.

    Args:
        purpose (FilePurpose | Unset): What a file is for: `reference` (media for generations),
            `chat` (chat image attachments),
            `generation_output` (made by a generation; not uploadable).
             Example: reference.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileList | Problem]
    """

    kwargs = _get_kwargs(
        purpose=purpose,
        limit=limit,
        after=after,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    purpose: FilePurpose | Unset = UNSET,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> FileList | Problem | None:
    """List files

     The account's files, newest first.

    Args:
        purpose (FilePurpose | Unset): What a file is for: `reference` (media for generations),
            `chat` (chat image attachments),
            `generation_output` (made by a generation; not uploadable).
             Example: reference.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileList | Problem
    """

    return sync_detailed(
        client=client,
        purpose=purpose,
        limit=limit,
        after=after,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    purpose: FilePurpose | Unset = UNSET,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> Response[FileList | Problem]:
    """List files

     The account's files, newest first.

    Args:
        purpose (FilePurpose | Unset): What a file is for: `reference` (media for generations),
            `chat` (chat image attachments),
            `generation_output` (made by a generation; not uploadable).
             Example: reference.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileList | Problem]
    """

    kwargs = _get_kwargs(
        purpose=purpose,
        limit=limit,
        after=after,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    purpose: FilePurpose | Unset = UNSET,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> FileList | Problem | None:
    """List files

     The account's files, newest first.

    Args:
        purpose (FilePurpose | Unset): What a file is for: `reference` (media for generations),
            `chat` (chat image attachments),
            `generation_output` (made by a generation; not uploadable).
             Example: reference.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileList | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            purpose=purpose,
            limit=limit,
            after=after,
        )
    ).parsed
