from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.webhook_endpoint import WebhookEndpoint
from ...models.webhook_secret_rotation import WebhookSecretRotation
from ...types import UNSET, Response, Unset


def _get_kwargs(
    endpoint_id: str,
    *,
    body: None | Unset | WebhookSecretRotation = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/webhooks/{endpoint_id}/rotate-secret".format(
            endpoint_id=quote(str(endpoint_id), safe=""),
        ),
    }

    if isinstance(body, WebhookSecretRotation):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhookEndpoint | None:
    if response.status_code == 200:
        response_200 = WebhookEndpoint.from_dict(response.json())

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
) -> Response[Problem | WebhookEndpoint]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: None | Unset | WebhookSecretRotation = UNSET,
) -> Response[Problem | WebhookEndpoint]:
    """Rotate an endpoint's signing secret

     A new secret signs from now on; the old one also signs (two signatures) until the grace
    period ends (default 24 h, at most 7 days). The answer shows the new secret, once.

    Args:
        endpoint_id (str):  Example: whep_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        body (None | Unset | WebhookSecretRotation): How long the old secret keeps signing.
            Example: {'grace_seconds': 86400}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookEndpoint]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: None | Unset | WebhookSecretRotation = UNSET,
) -> Problem | WebhookEndpoint | None:
    """Rotate an endpoint's signing secret

     A new secret signs from now on; the old one also signs (two signatures) until the grace
    period ends (default 24 h, at most 7 days). The answer shows the new secret, once.

    Args:
        endpoint_id (str):  Example: whep_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        body (None | Unset | WebhookSecretRotation): How long the old secret keeps signing.
            Example: {'grace_seconds': 86400}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookEndpoint
    """

    return sync_detailed(
        endpoint_id=endpoint_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: None | Unset | WebhookSecretRotation = UNSET,
) -> Response[Problem | WebhookEndpoint]:
    """Rotate an endpoint's signing secret

     A new secret signs from now on; the old one also signs (two signatures) until the grace
    period ends (default 24 h, at most 7 days). The answer shows the new secret, once.

    Args:
        endpoint_id (str):  Example: whep_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        body (None | Unset | WebhookSecretRotation): How long the old secret keeps signing.
            Example: {'grace_seconds': 86400}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookEndpoint]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: None | Unset | WebhookSecretRotation = UNSET,
) -> Problem | WebhookEndpoint | None:
    """Rotate an endpoint's signing secret

     A new secret signs from now on; the old one also signs (two signatures) until the grace
    period ends (default 24 h, at most 7 days). The answer shows the new secret, once.

    Args:
        endpoint_id (str):  Example: whep_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        body (None | Unset | WebhookSecretRotation): How long the old secret keeps signing.
            Example: {'grace_seconds': 86400}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookEndpoint
    """

    return (
        await asyncio_detailed(
            endpoint_id=endpoint_id,
            client=client,
            body=body,
        )
    ).parsed
