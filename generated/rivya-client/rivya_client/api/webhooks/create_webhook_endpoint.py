from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.webhook_endpoint import WebhookEndpoint
from ...models.webhook_endpoint_create import WebhookEndpointCreate
from ...types import Response


def _get_kwargs(
    *,
    body: WebhookEndpointCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/webhooks",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhookEndpoint | None:
    if response.status_code == 201:
        response_201 = WebhookEndpoint.from_dict(response.json())

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
    *,
    client: AuthenticatedClient | Client,
    body: WebhookEndpointCreate,
) -> Response[Problem | WebhookEndpoint]:
    """Subscribe a webhook endpoint

     Register a URL that receives signed events (Standard Webhooks). The URL must be https
    and resolve only to public addresses (checked now and at every delivery; redirects are
    not followed). The answer carries the signing `secret` (`whsec_…`), shown this once.

    Each delivery is a POST of the event as JSON, `{"id": "evt_…", "type":
    "generation.succeeded", "created_at": …, "data": <the generation as GET
    /generations/{taskId} shows it>}`, with the headers `webhook-id` (the same on every
    retry of a delivery: de-duplicate on it), `webhook-timestamp` (Unix seconds, fresh each
    attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`;
    two space-separated signatures while a rotated secret is still valid). A 2xx answer
    within 15 s is a delivery; anything else is retried (immediately, 5 s, 5 min, 30 min,
    2 h, 5 h, 10 h, 14 h, 20 h, 24 h, with jitter; `Retry-After` honoured). A 410 disables
    the endpoint, and so do 5 days of failing every attempt.

    Limits: an account has at most 20 endpoints (disabled ones count, deleted ones do not);
    one more is a 409 with the code `webhook_endpoint_limit_reached`. At most 4 deliveries
    of an account are attempted at once; its others wait their turn (delayed, never dropped
    or failed for it), so slow receivers delay only their own account's webhooks.

    Args:
        body (WebhookEndpointCreate): An endpoint to subscribe. Example: {'url':
            'https://example.com/rivya/webhooks', 'events': ['generation.succeeded',
            'generation.failed'], 'description': 'production'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookEndpoint]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: WebhookEndpointCreate,
) -> Problem | WebhookEndpoint | None:
    """Subscribe a webhook endpoint

     Register a URL that receives signed events (Standard Webhooks). The URL must be https
    and resolve only to public addresses (checked now and at every delivery; redirects are
    not followed). The answer carries the signing `secret` (`whsec_…`), shown this once.

    Each delivery is a POST of the event as JSON, `{"id": "evt_…", "type":
    "generation.succeeded", "created_at": …, "data": <the generation as GET
    /generations/{taskId} shows it>}`, with the headers `webhook-id` (the same on every
    retry of a delivery: de-duplicate on it), `webhook-timestamp` (Unix seconds, fresh each
    attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`;
    two space-separated signatures while a rotated secret is still valid). A 2xx answer
    within 15 s is a delivery; anything else is retried (immediately, 5 s, 5 min, 30 min,
    2 h, 5 h, 10 h, 14 h, 20 h, 24 h, with jitter; `Retry-After` honoured). A 410 disables
    the endpoint, and so do 5 days of failing every attempt.

    Limits: an account has at most 20 endpoints (disabled ones count, deleted ones do not);
    one more is a 409 with the code `webhook_endpoint_limit_reached`. At most 4 deliveries
    of an account are attempted at once; its others wait their turn (delayed, never dropped
    or failed for it), so slow receivers delay only their own account's webhooks.

    Args:
        body (WebhookEndpointCreate): An endpoint to subscribe. Example: {'url':
            'https://example.com/rivya/webhooks', 'events': ['generation.succeeded',
            'generation.failed'], 'description': 'production'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookEndpoint
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: WebhookEndpointCreate,
) -> Response[Problem | WebhookEndpoint]:
    """Subscribe a webhook endpoint

     Register a URL that receives signed events (Standard Webhooks). The URL must be https
    and resolve only to public addresses (checked now and at every delivery; redirects are
    not followed). The answer carries the signing `secret` (`whsec_…`), shown this once.

    Each delivery is a POST of the event as JSON, `{"id": "evt_…", "type":
    "generation.succeeded", "created_at": …, "data": <the generation as GET
    /generations/{taskId} shows it>}`, with the headers `webhook-id` (the same on every
    retry of a delivery: de-duplicate on it), `webhook-timestamp` (Unix seconds, fresh each
    attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`;
    two space-separated signatures while a rotated secret is still valid). A 2xx answer
    within 15 s is a delivery; anything else is retried (immediately, 5 s, 5 min, 30 min,
    2 h, 5 h, 10 h, 14 h, 20 h, 24 h, with jitter; `Retry-After` honoured). A 410 disables
    the endpoint, and so do 5 days of failing every attempt.

    Limits: an account has at most 20 endpoints (disabled ones count, deleted ones do not);
    one more is a 409 with the code `webhook_endpoint_limit_reached`. At most 4 deliveries
    of an account are attempted at once; its others wait their turn (delayed, never dropped
    or failed for it), so slow receivers delay only their own account's webhooks.

    Args:
        body (WebhookEndpointCreate): An endpoint to subscribe. Example: {'url':
            'https://example.com/rivya/webhooks', 'events': ['generation.succeeded',
            'generation.failed'], 'description': 'production'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookEndpoint]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: WebhookEndpointCreate,
) -> Problem | WebhookEndpoint | None:
    """Subscribe a webhook endpoint

     Register a URL that receives signed events (Standard Webhooks). The URL must be https
    and resolve only to public addresses (checked now and at every delivery; redirects are
    not followed). The answer carries the signing `secret` (`whsec_…`), shown this once.

    Each delivery is a POST of the event as JSON, `{"id": "evt_…", "type":
    "generation.succeeded", "created_at": …, "data": <the generation as GET
    /generations/{taskId} shows it>}`, with the headers `webhook-id` (the same on every
    retry of a delivery: de-duplicate on it), `webhook-timestamp` (Unix seconds, fresh each
    attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`;
    two space-separated signatures while a rotated secret is still valid). A 2xx answer
    within 15 s is a delivery; anything else is retried (immediately, 5 s, 5 min, 30 min,
    2 h, 5 h, 10 h, 14 h, 20 h, 24 h, with jitter; `Retry-After` honoured). A 410 disables
    the endpoint, and so do 5 days of failing every attempt.

    Limits: an account has at most 20 endpoints (disabled ones count, deleted ones do not);
    one more is a 409 with the code `webhook_endpoint_limit_reached`. At most 4 deliveries
    of an account are attempted at once; its others wait their turn (delayed, never dropped
    or failed for it), so slow receivers delay only their own account's webhooks.

    Args:
        body (WebhookEndpointCreate): An endpoint to subscribe. Example: {'url':
            'https://example.com/rivya/webhooks', 'events': ['generation.succeeded',
            'generation.failed'], 'description': 'production'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookEndpoint
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
