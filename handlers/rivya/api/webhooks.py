"""`webhooks` tag: endpoints and the event log."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from rivya.api import render, runtime
from rivya.net.ssrf import Target
from rivya.webhooks import deliveries, endpoints
from rivya.webhooks.config import WebhookConfig
from rivya.webhooks.ssrf import check_url


async def _checked(url: str) -> Target:
    """The URL checked against the SSRF rules, outside any transaction (it resolves the host)."""
    return await check_url(url, WebhookConfig.from_settings(runtime().settings).allow)


async def create_webhook_endpoint(user: str, body: dict[str, Any]) -> Response:
    """POST /webhooks"""
    target = await _checked(body["url"])
    rt = runtime()
    async with rt.db.write() as conn:
        endpoint = await endpoints.create_endpoint(
            conn,
            user,
            target=target,
            events=body["events"],
            max_endpoints=rt.settings.webhook_max_endpoints_per_account,
            description=body.get("description"),
        )
    return render(endpoints.render(endpoint, with_secret=True), 201)


async def list_webhook_endpoints(user: str, limit: int = 20, after: str | None = None) -> Response:
    """GET /webhooks"""
    async with runtime().db.read() as conn:
        found, has_more = await endpoints.list_endpoints(conn, user, limit=limit, after=after)
    return render(
        {"object": "list", "data": [endpoints.render(e) for e in found], "has_more": has_more}
    )


async def get_webhook_endpoint(user: str, endpoint_id: str) -> Response:
    """GET /webhooks/{endpointId}"""
    async with runtime().db.read() as conn:
        endpoint = await endpoints.get_endpoint(conn, user, endpoint_id)
    return render(endpoints.render(endpoint))


async def update_webhook_endpoint(user: str, endpoint_id: str, body: dict[str, Any]) -> Response:
    """PATCH /webhooks/{endpointId}"""
    target = await _checked(body["url"]) if "url" in body else None
    changes: dict[str, Any] = {}
    if "description" in body:
        changes["description"] = body["description"]
    async with runtime().db.write() as conn:
        endpoint = await endpoints.update_endpoint(
            conn,
            user,
            endpoint_id,
            target=target,
            events=body.get("events"),
            enabled=body.get("enabled"),
            **changes,
        )
    return render(endpoints.render(endpoint))


async def delete_webhook_endpoint(user: str, endpoint_id: str) -> Response:
    """DELETE /webhooks/{endpointId}"""
    async with runtime().db.write() as conn:
        await endpoints.delete_endpoint(conn, user, endpoint_id)
    return render({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


async def rotate_webhook_secret(
    user: str, endpoint_id: str, body: dict[str, Any] | None = None
) -> Response:
    """POST /webhooks/{endpointId}/rotate-secret"""
    grace = int((body or {}).get("grace_seconds", 86400))
    async with runtime().db.write() as conn:
        endpoint = await endpoints.rotate_secret(conn, user, endpoint_id, grace_seconds=grace)
    return render(endpoints.render(endpoint, with_secret=True))


async def list_webhook_events(
    user: str, limit: int = 20, after: str | None = None, type_: str | None = None
) -> Response:
    """GET /webhook-events"""
    async with runtime().db.read() as conn:
        found, has_more = await deliveries.list_events(
            conn, user, limit=limit, after=after, type_=type_
        )
    return render({"object": "list", "data": found, "has_more": has_more})


async def get_webhook_event(user: str, event_id: str) -> Response:
    """GET /webhook-events/{eventId}"""
    async with runtime().db.read() as conn:
        return render(await deliveries.get_event(conn, user, event_id))


async def resend_webhook_event(
    user: str, event_id: str, body: dict[str, Any] | None = None
) -> Response:
    """POST /webhook-events/{eventId}/resend"""
    rt = runtime()
    async with rt.db.write() as conn:
        event = await deliveries.resend(conn, user, event_id, (body or {}).get("endpoint_id"))
    rt.jobs_added.set()
    return render(event)
