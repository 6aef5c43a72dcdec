"""The upstream provider types that a catalog binding (`provider: {type, options}`) may name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rivya.providers.base import Provider
from rivya.providers.http import UpstreamLimits
from rivya.providers.openai_compat import OpenAIImagesProvider, OpenAISpeechProvider
from rivya.providers.predictions import PredictionsProvider

_TYPES: dict[str, Callable[[Mapping[str, Any], UpstreamLimits], Provider]] = {
    "openai-images": OpenAIImagesProvider,
    "openai-speech": OpenAISpeechProvider,
    "predictions": PredictionsProvider,
}


def upstream_provider(type: str, options: dict[str, Any], limits: UpstreamLimits) -> Provider:
    """The provider of an upstream binding, held to `limits`. ValueError for an unknown type or
    bad options (including an `api_key_env` that names an unset variable)."""
    try:
        factory = _TYPES[type]
    except KeyError:
        known = ", ".join(sorted(_TYPES))
        raise ValueError(f"unknown upstream provider type {type!r} (known: {known})") from None
    return factory(options, limits)
