"""Providers for OpenAI-compatible upstreams: image generation and text to speech.

Besides the options of `rivya.providers.http`, both read `model` (required), the upstream's model
name. The images provider reads `size` (default "1024x1024"), used when the input has no width
and height; the speech provider reads `voice` (default "alloy") and `speed` (default: not sent),
each of which the input may override when the model's parameter schema offers it. Both are held
to the `UpstreamLimits` they are built with.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from rivya.providers.base import GenerationRequest, Output, ProviderError
from rivya.providers.http import (
    Upstream,
    UpstreamLimits,
    number,
    read_json,
    required_str,
    unusable,
)


def _prompt(request: GenerationRequest) -> str:
    prompt = request.input.get("prompt")
    if not isinstance(prompt, str):
        # The model's parameter schema should have required one: a catalog mistake, not the
        # upstream's, and no retry mends it.
        raise ProviderError(f"model {request.model_id}: the input has no prompt", retryable=False)
    return prompt


_JSON_ALLOWANCE = 64 * 1024  # the answer's JSON around the images: revised prompts and the like


class OpenAIImagesProvider:
    """Images from POST {base_url}/v1/images/generations."""

    def __init__(self, options: Mapping[str, Any], limits: UpstreamLimits) -> None:
        self._model = required_str(options, "model")
        self._size = str(options.get("size", "1024x1024"))
        self._upstream = Upstream(options, limits)

    async def generate(self, request: GenerationRequest) -> list[Output]:
        """Ask for `num_images` images of the input's size, returned as base64 PNG."""
        width, height = request.input.get("width"), request.input.get("height")
        count = request.input.get("num_images") or 1
        body = {
            "model": self._model,
            "prompt": _prompt(request),
            "n": count,
            "size": f"{width}x{height}" if width and height else self._size,
            "response_format": "b64_json",
        }
        # The answer carries `count` images in base64 (4 characters per 3 bytes), plus JSON.
        most = count * (self._upstream.limits.max_bytes * 4 // 3 + 4) + _JSON_ALLOWANCE
        response = await self._upstream.send(
            "POST", "/v1/images/generations", json=body, max_bytes=most
        )
        payload = read_json(response)
        items = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise unusable(f"{response.request.url}: no data[] in {response.text[:300]!r}")
        return [Output(await self._image(item)) for item in items]

    async def _image(self, item: Any) -> bytes:
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            try:
                return base64.b64decode(item["b64_json"], validate=True)
            except binascii.Error as exc:
                raise unusable(f"an image's b64_json is not base64: {exc}") from exc
        # Some compatible servers ignore response_format and answer with links.
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            return await self._upstream.download(item["url"])
        raise unusable(f"an image item has neither b64_json nor url: {str(item)[:300]!r}")

    async def aclose(self) -> None:
        """Close the connections."""
        await self._upstream.aclose()


class OpenAISpeechProvider:
    """Speech from POST {base_url}/v1/audio/speech, as WAV."""

    def __init__(self, options: Mapping[str, Any], limits: UpstreamLimits) -> None:
        self._model = required_str(options, "model")
        self._voice = str(options.get("voice", "alloy"))
        self._speed = number(options, "speed", 1.0) if "speed" in options else None
        self._upstream = Upstream(options, limits)

    async def generate(self, request: GenerationRequest) -> list[Output]:
        """Voice the prompt; the response body is the audio."""
        body: dict[str, Any] = {
            "model": self._model,
            "input": _prompt(request),
            "voice": request.input.get("voice", self._voice),
            "response_format": "wav",
        }
        speed = request.input.get("speed", self._speed)
        if speed is not None:
            body["speed"] = speed
        response = await self._upstream.send("POST", "/v1/audio/speech", json=body)
        if not response.content:
            raise unusable(f"{response.request.url}: the audio is empty")
        return [Output(response.content)]

    async def aclose(self) -> None:
        """Close the connections."""
        await self._upstream.aclose()
