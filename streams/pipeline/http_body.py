"""Reading a whole HTTP body with a size limit, for the server view and the feed client."""

from __future__ import annotations

from typing import Protocol

__all__ = ["read_limited"]

_CHUNK = 65_536


class _Readable(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


async def read_limited(stream: _Readable, limit: int) -> bytes:
    """The body, or its first ``limit + 1`` bytes when it is longer (the caller refuses it).

    ``read(n)`` of aiohttp's stream returns what has arrived, not ``n`` bytes: one call
    would cut a body that comes in several packets.
    """
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
