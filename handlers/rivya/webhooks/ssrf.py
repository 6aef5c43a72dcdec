"""The SSRF guard as webhooks apply it: `rivya.net.ssrf`'s rule, in the words and with the error
codes of the webhooks API."""

from __future__ import annotations

from rivya.errors import InvalidRequest
from rivya.net import ssrf
from rivya.net.ssrf import AllowList, Target, URLRejected


class WebhookURLRejected(InvalidRequest):
    """A webhook URL that Rivya will not send to; `code` says why:
    `webhook_url_invalid` (malformed), `webhook_url_not_allowed` (not https, or leads to an
    address that is not public) or `webhook_url_unresolvable` (the host has no address)."""

    code = "webhook_url_not_allowed"


async def check_url(url: str, allow: AllowList) -> Target:
    """The target of a webhook URL, or WebhookURLRejected saying why Rivya will not send there.
    Resolves the host: call it when registering the URL and again before each delivery."""
    try:
        return await ssrf.check_url(url, allow, subject="webhook URL")
    except URLRejected as exc:
        raise WebhookURLRejected(exc.message, code=f"webhook_{exc.code}") from None
