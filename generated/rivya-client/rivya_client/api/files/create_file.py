from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.file import File
from ...models.file_upload import FileUpload
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: FileUpload,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/files",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem | None:
    if response.status_code == 201:
        response_201 = File.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[File | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FileUpload,
    idempotency_key: str | Unset = UNSET,
) -> Response[File | Problem]:
    """Upload a file

     Upload reference media (an image, audio or video) as `multipart/form-data` with the bytes
    in the field `file`. The type is read from the content, not from the declared type or the
    filename: anything but PNG, JPEG, GIF, WebP, WAV, MP3, FLAC, Ogg, M4A, MP4, QuickTime and
    WebM is refused with 415. Uploads larger than the limit (50 MB by default) are refused
    with 413 as soon as the limit is crossed. Images are checked against decompression bombs.
    Use the file's id in a generation's `input` (for example `reference_image`) or as a chat
    image attachment (`rivya://files/file_…`).

    Args:
        idempotency_key (str | Unset):
        body (FileUpload): A file upload. Example: {'purpose': 'reference'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: FileUpload,
    idempotency_key: str | Unset = UNSET,
) -> File | Problem | None:
    """Upload a file

     Upload reference media (an image, audio or video) as `multipart/form-data` with the bytes
    in the field `file`. The type is read from the content, not from the declared type or the
    filename: anything but PNG, JPEG, GIF, WebP, WAV, MP3, FLAC, Ogg, M4A, MP4, QuickTime and
    WebM is refused with 415. Uploads larger than the limit (50 MB by default) are refused
    with 413 as soon as the limit is crossed. Images are checked against decompression bombs.
    Use the file's id in a generation's `input` (for example `reference_image`) or as a chat
    image attachment (`rivya://files/file_…`).

    Args:
        idempotency_key (str | Unset):
        body (FileUpload): A file upload. Example: {'purpose': 'reference'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FileUpload,
    idempotency_key: str | Unset = UNSET,
) -> Response[File | Problem]:
    """Upload a file

     Upload reference media (an image, audio or video) as `multipart/form-data` with the bytes
    in the field `file`. The type is read from the content, not from the declared type or the
    filename: anything but PNG, JPEG, GIF, WebP, WAV, MP3, FLAC, Ogg, M4A, MP4, QuickTime and
    WebM is refused with 415. Uploads larger than the limit (50 MB by default) are refused
    with 413 as soon as the limit is crossed. Images are checked against decompression bombs.
    Use the file's id in a generation's `input` (for example `reference_image`) or as a chat
    image attachment (`rivya://files/file_…`).

    Args:
        idempotency_key (str | Unset):
        body (FileUpload): A file upload. Example: {'purpose': 'reference'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: FileUpload,
    idempotency_key: str | Unset = UNSET,
) -> File | Problem | None:
    """Upload a file

     Upload reference media (an image, audio or video) as `multipart/form-data` with the bytes
    in the field `file`. The type is read from the content, not from the declared type or the
    filename: anything but PNG, JPEG, GIF, WebP, WAV, MP3, FLAC, Ogg, M4A, MP4, QuickTime and
    WebM is refused with 415. Uploads larger than the limit (50 MB by default) are refused
    with 413 as soon as the limit is crossed. Images are checked against decompression bombs.
    Use the file's id in a generation's `input` (for example `reference_image`) or as a chat
    image attachment (`rivya://files/file_…`).

    Args:
        idempotency_key (str | Unset):
        body (FileUpload): A file upload. Example: {'purpose': 'reference'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
