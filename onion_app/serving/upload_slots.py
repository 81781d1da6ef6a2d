"""A bound on how many large request bodies waitress holds at once.

waitress reads a whole body into memory (``buffers.py`` keeps it there)
before the app sees it, so no Flask code can limit the uploads in flight. A
body larger than the text limit (only a form with files may be) takes one of
a fixed number of slots from the moment its headers arrive until waitress is
done with it, or its client goes; with every slot taken, the next is refused
at once with 503, before its body is read. Memory for bodies is then about
the connection limit times the text limit, plus the slots times the largest
form with files.
"""

from __future__ import annotations

import threading
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.utilities import Error

__all__ = ["UploadSlots", "UploadsBusy"]


class UploadsBusy(Error):
    """waitress's answer when every upload slot is taken."""

    code = 503
    reason = "Service Unavailable"


class UploadSlots:
    """Slots for bodies over ``large`` bytes; at most ``limit`` at once."""

    def __init__(self, limit: int, large: int) -> None:
        self.large = large
        self._slots = threading.BoundedSemaphore(limit)

    def take(self) -> bool:
        return self._slots.acquire(blocking=False)

    def give_back(self) -> None:
        self._slots.release()

    def channel_class(self, base: type[HTTPChannel] = HTTPChannel) -> type[HTTPChannel]:
        """A waitress channel whose requests hold a slot while their body is large.

        :param base: the channel to extend (Haven's, which sheds idle
            connections and answers waitress's errors with the app's pages)
        """
        slots = self

        parser_base: type[HTTPRequestParser] = base.parser_class

        class Parser(parser_base):  # type: ignore[valid-type,misc]
            error: Any = None  # as waitress's parser declares it, typed
            _counted = False
            _holding = False

            def received(self, data: bytes) -> int:
                consumed: int = super().received(data)
                if self.headers_finished and not self._counted and not self.error:
                    self._counted = True
                    if self.content_length > slots.large:
                        if slots.take():
                            self._holding = True
                        else:
                            self.error = UploadsBusy(
                                "Many files are being sent right now. Nothing was kept: "
                                "go back and send again in a minute.")
                            self.completed = True
                return consumed

            def close(self) -> None:
                super().close()
                if self._holding:
                    self._holding = False
                    slots.give_back()

        class Channel(base):  # type: ignore[valid-type,misc]
            parser_class = Parser

            def handle_close(self, *args: Any) -> None:
                # A client gone mid-body leaves its parser unfinished: free its slot.
                if self.request is not None:
                    self.request.close()
                super().handle_close(*args)

        return Channel
