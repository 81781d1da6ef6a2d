"""waitress's thread pool in two lanes: pages first, form posts after.

waitress serves requests in the order they arrive. Under a flood of
``POST /login``, a visitor's ``GET /`` used to wait behind every queued login
(each argon2id run is a third of a second, and a refused one still costs a
form check and a page), so the cheapest page of the site took seconds.

:class:`LanedDispatcher` keeps two queues. A request that only reads (GET,
HEAD, OPTIONS) goes in the *pages* lane; anything that sends a form (POST
and the rest) goes in the *forms* lane, where key derivations happen. An idle
thread takes a page first, and takes a form only while fewer than
``form_threads`` threads are on forms, so some threads are always free for
pages whatever the forms do. Within a lane the order stays first come, first
served.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from waitress.task import ThreadedTaskDispatcher

__all__ = ["READING_METHODS", "LanedDispatcher", "is_form"]

#: Methods that only read: nothing they do derives a key.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_form(channel: Any) -> bool:
    """Whether the request a waitress channel is about to serve sends a form.

    A request waitress already refused (a parse error) is answered by waitress
    itself, cheaply: it counts as a page.
    """
    requests = getattr(channel, "requests", None)
    if not requests:
        return False
    request = requests[0]
    if getattr(request, "error", None) is not None:
        return False
    return str(getattr(request, "command", "")).upper() not in READING_METHODS


class LanedDispatcher(ThreadedTaskDispatcher):
    """A :class:`waitress.task.ThreadedTaskDispatcher` with a pages lane and a
    forms lane; at most ``form_threads`` threads serve forms at once.

    The base class's ``queue`` is the pages lane, so its bookkeeping (thread
    counts, the queue-depth warning) and ``shutdown`` keep working.
    """

    def __init__(self, form_threads: int) -> None:
        super().__init__()
        if form_threads < 1:
            raise ValueError("form_threads must be at least 1")
        self.form_threads = form_threads
        self.forms: deque[Any] = deque()
        self.forms_running = 0
        self._when_stopped: list[Callable[[], None]] = []

    def when_stopped(self, callback: Callable[[], None]) -> None:
        """Calls ``callback`` once every thread has stopped: now if none runs,
        otherwise in the last thread to stop, after its last request."""
        with self.lock:
            if self.threads:
                self._when_stopped.append(callback)
                return
        callback()

    def add_task(self, task: Any) -> None:
        """Queues a channel's next request in its lane (waitress calls this)."""
        if not is_form(task):
            super().add_task(task)
            return
        with self.lock:
            self.forms.append(task)
            # Every idle thread checks: the one woken might not be allowed a form.
            self.queue_cv.notify_all()

    def _next(self) -> tuple[Any, bool] | None:
        """The next task a free thread may take, and whether it is a form (lock held)."""
        if self.queue:
            return self.queue.popleft(), False
        if self.forms and self.forms_running < self.form_threads:
            self.forms_running += 1
            return self.forms.popleft(), True
        return None

    def handler_thread(self, thread_no: int) -> None:
        """One worker thread: the base class's loop, over two lanes."""
        while True:
            with self.lock:
                taken = None
                while self.stop_count == 0:
                    taken = self._next()
                    if taken is not None:
                        break
                    self.active_count -= 1
                    self.queue_cv.wait()
                    self.active_count += 1
                if taken is None:  # asked to stop
                    self.active_count -= 1
                    self.stop_count -= 1
                    self.threads.discard(thread_no)
                    self.thread_exit_cv.notify()
                    callbacks: list[Callable[[], None]] = []
                    if not self.threads:
                        callbacks, self._when_stopped = self._when_stopped, []
            if taken is None:
                for callback in callbacks:
                    callback()
                return
            task, form = taken
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                if form:
                    with self.lock:
                        self.forms_running -= 1
                        self.queue_cv.notify_all()

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        """Stops the threads; queued forms are cancelled with the queued pages.

        :returns: whether pending tasks were cancelled (waitress's contract)
        """
        if cancel_pending:
            with self.lock:
                self.queue.extend(self.forms)
                self.forms.clear()
        result: bool = super().shutdown(cancel_pending=cancel_pending, timeout=timeout)
        return result
