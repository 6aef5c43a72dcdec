"""The chat provider types that a chat model's catalog binding (`provider: {type, options}`) may
name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rivya.providers.chat_base import ChatProvider
from rivya.providers.chat_local import LocalChatProvider
from rivya.providers.chat_openai import OpenAIChatProvider

_TYPES: dict[str, Callable[[Mapping[str, Any]], ChatProvider]] = {
    "local-chat": LocalChatProvider,
    "openai-chat": OpenAIChatProvider,
}


def chat_provider(type: str, options: dict[str, Any]) -> ChatProvider:
    """The provider of a chat binding. ValueError for an unknown type or bad options
    (including an `api_key_env` that names an unset variable)."""
    try:
        factory = _TYPES[type]
    except KeyError:
        known = ", ".join(sorted(_TYPES))
        raise ValueError(f"unknown chat provider type {type!r} (known: {known})") from None
    return factory(options)
