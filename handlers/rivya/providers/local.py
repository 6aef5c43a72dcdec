"""The built-in local development providers: real media, made in-process with no network.

The encoding is CPU-bound, so it runs in a worker thread and the event loop stays free for the
other tasks a worker runs at the same time.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

from rivya.providers import media
from rivya.providers.base import GenerationRequest, Output, Provider, ProviderError


class _LocalProvider:
    """What the local providers share: their options and their (empty) set of resources.

    Option `delay_seconds` (default 0) waits that long before rendering, so that development
    setups can watch queued and running tasks, and cancel them, as with a remote model.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        unknown = set(options) - {"delay_seconds"}
        if unknown:
            raise ValueError(f"unknown local provider options: {sorted(unknown)}")
        delay = options.get("delay_seconds", 0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise ValueError("delay_seconds must be a number of seconds, 0 or more")
        self._delay = float(delay)

    async def _wait(self) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)

    async def aclose(self) -> None:
        """Nothing to release: a local provider holds no connections."""


def _seed(request: GenerationRequest) -> int:
    """The input's seed or, without one, a seed from the task id: each task gets its own
    media, and a retried task makes the same media again."""
    seed = request.input.get("seed")
    if seed is not None:
        return int(seed)
    return int.from_bytes(hashlib.sha256(request.task_id.encode()).digest()[:4], "big")


def _reference(request: GenerationRequest, field: str) -> bytes | None:
    """The bytes of the file that input `field` names, if it names one."""
    if field not in request.input:
        return None
    reference = request.references.get(field)
    if reference is None:
        # The worker reads every referenced file; a missing one is a bug a retry will not fix.
        raise ProviderError(f"input {field} was not supplied as a reference", retryable=False)
    return reference.data


class LocalImageProvider(_LocalProvider):
    """rivya-image-dev: `num_images` PNG images painted from the prompt and seed."""

    async def generate(self, request: GenerationRequest) -> list[Output]:
        """Paint the images, over the reference image when one is given."""
        await self._wait()
        images = await asyncio.to_thread(
            media.render_images,
            prompt=request.input["prompt"],
            seed=_seed(request),
            width=request.input["width"],
            height=request.input["height"],
            count=request.input["num_images"],
            reference=_reference(request, "reference_image"),
        )
        return [Output(data) for data in images]


class LocalAudioProvider(_LocalProvider):
    """rivya-audio-dev: a WAV tone sequence from the prompt and seed."""

    async def generate(self, request: GenerationRequest) -> list[Output]:
        """Synthesise the WAV; a reference voice sample changes the tune and timbre."""
        await self._wait()
        data = await asyncio.to_thread(
            media.render_audio,
            prompt=request.input["prompt"],
            seed=_seed(request),
            duration=float(request.input["duration"]),
            sample_rate=request.input["sample_rate"],
            reference=_reference(request, "reference_audio"),
        )
        return [Output(data)]


class LocalVideoProvider(_LocalProvider):
    """rivya-video-dev: an H.264 MP4 clip of shapes drifting, from the prompt and seed."""

    async def generate(self, request: GenerationRequest) -> list[Output]:
        """Render the clip, opening on the reference image when one is given."""
        await self._wait()
        data = await asyncio.to_thread(
            media.render_video,
            prompt=request.input["prompt"],
            seed=_seed(request),
            duration=request.input["duration"],
            fps=request.input["fps"],
            width=request.input["width"],
            height=request.input["height"],
            reference=_reference(request, "reference_image"),
        )
        return [Output(data)]


class LocalNoopProvider(_LocalProvider):
    """Makes nothing, at once: a model for measuring the queue itself (`bench/`)."""

    async def generate(self, request: GenerationRequest) -> list[Output]:
        await self._wait()
        return []


_PROVIDERS: dict[str, Callable[[dict[str, Any]], Provider]] = {
    "local-noop": LocalNoopProvider,
    "local-image": LocalImageProvider,
    "local-audio": LocalAudioProvider,
    "local-video": LocalVideoProvider,
}


def local_provider(kind_type: str, options: dict[str, Any]) -> Provider:
    """The local provider for a catalog provider type (`local-image`, `local-audio`,
    `local-video`, `local-noop`); ValueError for any other type or for bad options."""
    try:
        provider_class = _PROVIDERS[kind_type]
    except KeyError:
        raise ValueError(f"no local provider of type {kind_type!r}") from None
    return provider_class(options)
