"""A time limit for bashlex: some inputs send it into an endless loop (`'${~'~`), and a
permission check that never returns would freeze the agent.

One daemon thread keeps the deadlines; when one passes it raises ParseTimeout inside the
parsing thread (PyThreadState_SetAsyncExc, delivered between bytecodes, which is enough
for bashlex's pure-Python loops).

An exception injected from outside can land at any bytecode, so the parsing thread runs
no Python-level synchronisation while a deadline is armed: the job table is guarded by a
C lock, the watchdog is woken through a C queue (`_queue.SimpleQueue`). A Python-level
`threading.Event` or `Condition` here could be left locked by an exception landing inside
it, which stops the watchdog for good; a `@contextmanager` could take the exception in
its own machinery, outside the caller's `try`. Everything between arming and disarming
sits inside one `try`, so the exception reaches the caller of `call()` or nowhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _set_async_exc(thread: int, exc: type[BaseException] | None) -> None:
    """Make `exc` pending in `thread`; None (a NULL pointer) clears a pending one."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), None if exc is None else ctypes.py_object(exc)
    )


class ParseTimeout(BaseException):
    """bashlex did not finish within its time limit. A BaseException, so that no
    `except Exception` inside bashlex swallows it."""


class _Job:
    __slots__ = ("deadline", "fired", "thread")

    def __init__(self, thread: int, deadline: float) -> None:
        self.thread, self.deadline, self.fired = thread, deadline, False


class _Watchdog:
    """Deadlines and the thread that enforces them. Firing and ending a job both happen
    under one C lock: a job either ends first and is never fired, or is fired first and
    its end clears any exception still pending and raises ParseTimeout itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._jobs: dict[int, _Job] = {}
        self._thread: threading.Thread | None = None

    def call(self, seconds: float, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)`, or ParseTimeout once `seconds` have passed."""
        job = _Job(threading.get_ident(), time.monotonic() + seconds)
        key = id(job)
        try:
            with self._lock:
                if self._thread is None or not self._thread.is_alive():  # none yet, or forked
                    self._thread = threading.Thread(
                        target=self._run, name="friday-bashlex-watchdog", daemon=True
                    )
                    self._thread.start()
                self._jobs[key] = job
            self._wake.put(None)
            return fn(*args)
        finally:
            with self._lock:
                self._jobs.pop(key, None)
                fired = job.fired
            if fired:
                _set_async_exc(job.thread, None)  # a fired exception not yet delivered
                raise ParseTimeout

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                for key, job in list(self._jobs.items()):
                    if job.deadline <= now:
                        job.fired = True
                        del self._jobs[key]
                        _set_async_exc(job.thread, ParseTimeout)
                waiting = [j.deadline for j in self._jobs.values()]
            with contextlib.suppress(queue.Empty):  # no exception is ever injected here
                self._wake.get(timeout=max(min(waiting) - now, 0.001) if waiting else None)


WATCHDOG = _Watchdog()


def parse_limit(text: str) -> float:
    """Seconds allowed for parsing `text`: generous for its length (100 kB parses in
    about half a second) and for a loaded machine (a parse that is only slow must not
    turn a deny into an ask), short enough that a stuck parse is noticed."""
    return 2.0 + len(text) / 20_000
