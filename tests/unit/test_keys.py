"""The API key format: prefix, entropy, checksum, and refusals before any lookup."""

from __future__ import annotations

import pytest

from rivya.auth.keys import PREFIX, SECRET_LENGTH, check_format, hash_secret, hint, new_secret
from rivya.errors import AuthenticationFailed


def test_secrets_have_the_documented_shape_and_are_unique() -> None:
    secrets = {new_secret() for _ in range(1000)}
    assert len(secrets) == 1000
    for secret in secrets:
        assert secret.startswith(PREFIX) and len(secret) == SECRET_LENGTH
        check_format(secret)


@pytest.mark.parametrize(
    "bad",
    ["", "rvya_sk_", "sk-abc", "rvya_sk_" + "a" * 37, "rvya_sk_" + "a" * 39, "rvya_sk_" + "é" * 38],
)
def test_malformed_secrets_are_refused(bad: str) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        check_format(bad)
    assert refused.value.code == "malformed_api_key"


def test_a_single_mistyped_character_fails_the_checksum() -> None:
    secret = new_secret()
    position = len(PREFIX) + 5
    typo = "A" if secret[position] != "A" else "B"
    mistyped = secret[:position] + typo + secret[position + 1 :]
    with pytest.raises(AuthenticationFailed) as refused:
        check_format(mistyped)
    assert refused.value.code == "invalid_api_key_checksum"


def test_only_a_hash_and_a_hint_derive_from_the_secret() -> None:
    secret = new_secret()
    assert len(hash_secret(secret)) == 64 and secret not in hash_secret(secret)
    assert hint(secret) == secret[-4:]


def test_ids_sort_by_creation_and_do_not_repeat() -> None:
    from rivya.ids import new_id

    ids = [new_id("key") for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("key_") and len(i) == 4 + 24 for i in ids)
    # Within one millisecond the order is random; across milliseconds it is creation order.
    stamps = [i[4:12] for i in ids]
    assert stamps == sorted(stamps)
