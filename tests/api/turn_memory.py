"""How much a chat turn with image parts grows a fresh server process's memory: run as
`python -m tests.api.turn_memory PARTS`, it serves the app in process on an embedded database,
uploads five 20 MB images, then sends one turn whose PARTS image parts name them in turn, and
prints the growth of the resident set during that turn, in MB (sampled every 2 ms, after giving
the allocator's free memory back, so that it measures the turn and nothing before it)."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

from rivya.settings import Settings
from rivya.store.migrate import upgrade
from tests.conftest import make_tenant, serving, write_catalog

IMAGES = 5
SIDE = 2600  # 2600 x 2600 RGB noise: a PNG of about 20 MB


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def noise_png() -> bytes:
    image = Image.frombytes("RGB", (SIDE, SIDE), os.urandom(SIDE * SIDE * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


async def main(parts: int) -> float:
    from rivya.runtime import Runtime

    with tempfile.TemporaryDirectory() as data_dir:
        path = Path(data_dir)
        settings = Settings(data_dir=path, catalog=write_catalog(path), chat_max_images=parts)
        runtime = Runtime.build(settings)
        await upgrade(runtime.db)
        tenant = await make_tenant(runtime.db)
        async with serving(runtime, worker=False) as http:
            ids = []
            for _ in range(IMAGES):
                upload = await http.post(
                    "/files", files={"file": ("n.png", noise_png())}, headers=tenant.headers
                )
                ids.append(upload.json()["id"])
            content: list[dict[str, object]] = [{"type": "text", "text": "what are these"}]
            for index in range(parts):
                url = f"rivya://files/{ids[index % IMAGES]}"
                content.append({"type": "image_url", "image_url": {"url": url}})
            body = {"model": "rivya-chat-dev", "messages": [{"role": "user", "content": content}]}
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            start = peak = rss()
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss())
                    time.sleep(0.002)

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                answer = await http.post(
                    "/chat/completions", json=body, headers=tenant.headers, timeout=60
                )
            finally:
                done.set()
                sampler.join()
            assert answer.status_code == 200, answer.text
    return (max(peak, rss()) - start) / 2**20


if __name__ == "__main__":
    grew = asyncio.run(main(int(sys.argv[1])))
    print(f"{grew:.1f}")
