"""Fixtures shared by the crypto tests."""

from __future__ import annotations

import pytest


class Replay:
    """A random source that hands out the bytes of a known-answer vector, in order."""

    def __init__(self, stream: bytes) -> None:
        self._stream = stream
        self._position = 0

    def __call__(self, size: int) -> bytes:
        if self._position + size > len(self._stream):
            raise AssertionError("the code drew more random bytes than the vector holds")
        chunk = self._stream[self._position : self._position + size]
        self._position += size
        return chunk

    @property
    def remaining(self) -> int:
        return len(self._stream) - self._position


@pytest.fixture
def replay() -> type[Replay]:
    return Replay
