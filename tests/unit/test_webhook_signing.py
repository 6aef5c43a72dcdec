"""Standard Webhooks signatures, checked with the reference library receivers use."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from rivya.webhooks.signing import new_secret, signature_headers

BODY = b'{"id":"evt_1","type":"generation.succeeded","created_at":1,"data":{"id":"task_1"}}'


def test_secrets_are_whsec_and_24_random_bytes() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24


def test_headers_verify_with_the_reference_library() -> None:
    secret, now = new_secret(), int(time.time())
    headers = signature_headers("msg_1", now, BODY, [secret])
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(now)
    assert headers["webhook-signature"].startswith("v1,")
    assert " " not in headers["webhook-signature"]
    assert Webhook(secret).verify(BODY, headers)["data"] == {"id": "task_1"}


def test_a_tampered_body_an_old_timestamp_or_another_secret_fail() -> None:
    secret, now = new_secret(), int(time.time())
    headers = signature_headers("msg_1", now, BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"task_1", b"task_2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    stale = signature_headers("msg_1", now - 600, BODY, [secret])
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, stale)


def test_two_secrets_give_two_signatures_each_verifying() -> None:
    """During a rotation receivers holding either secret accept the message."""
    current, previous = new_secret(), new_secret()
    headers = signature_headers("msg_1", int(time.time()), BODY, [current, previous])
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert Webhook(current).verify(BODY, headers)
    assert Webhook(previous).verify(BODY, headers)
