"""Standard Webhooks signatures (the spec OpenAI and Replicate use; receivers verify them with the
`standardwebhooks` libraries).

A message carries `webhook-id` (stable across retries, so receivers can drop duplicates),
`webhook-timestamp` (Unix seconds of this attempt; receivers refuse ones more than five minutes
off) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per
secret, space-separated, so that both secrets verify while a rotation's grace period runs.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """A signing secret: `whsec_` and the base64 of 24 random bytes (192 bits)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature_headers(
    message_id: str, timestamp: int, body: bytes, signing_secrets: Sequence[str]
) -> dict[str, str]:
    """The three headers for `body`, signed with each of `signing_secrets` (newest first)."""
    when = datetime.fromtimestamp(timestamp, UTC)
    content = body.decode("utf-8")
    signatures = [Webhook(secret).sign(message_id, when, content) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }
