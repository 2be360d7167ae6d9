"""A time limit for bashlex: some inputs send it into an endless loop (`'${~'~`), and a
permission check that never returns would freeze the agent.

One daemon thread keeps the deadlines; when one passes it raises ParseTimeout inside the
parsing thread (PyThreadState_SetAsyncExc, delivered between bytecodes, which is enough
for bashlex's pure-Python loops). The cost per parse is one lock and one notify.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class ParseTimeout(BaseException):
    """bashlex did not finish within its time limit. A BaseException, so that no
    `except Exception` inside bashlex swallows it."""


class _Job:
    __slots__ = ("deadline", "fired", "thread")

    def __init__(self, thread: int, deadline: float) -> None:
        self.thread, self.deadline, self.fired = thread, deadline, False


class _Watchdog:
    """Deadlines and the thread that enforces them. Firing and ending a job both happen
    under one C-level lock (no Python frame, so no bytecode boundary where an injected
    exception could land while the lock is taken but not yet guarded): a job either
    ends first and is never fired, or is fired first and its end clears the pending
    exception and raises it inside the `with`, never after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._jobs: dict[object, _Job] = {}
        self._thread: threading.Thread | None = None

    @contextmanager
    def limit(self, seconds: float) -> Iterator[None]:
        token = object()
        job = _Job(threading.get_ident(), time.monotonic() + seconds)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # none yet, or forked
                self._thread = threading.Thread(
                    target=self._run, name="friday-bashlex-watchdog", daemon=True
                )
                self._thread.start()
            self._jobs[token] = job
        self._wake.set()
        try:
            yield
        finally:
            with self._lock:
                self._jobs.pop(token, None)
                fired = job.fired
            if fired:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(job.thread), None)
                raise ParseTimeout

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                for job in self._jobs.values():
                    if not job.fired and job.deadline <= now:
                        job.fired = True
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(job.thread), ctypes.py_object(ParseTimeout)
                        )
                waiting = [j.deadline for j in self._jobs.values() if not j.fired]
                self._wake.clear()
            wait = max(min(waiting) - now, 0.001) if waiting else None
            self._wake.wait(wait)


WATCHDOG = _Watchdog()


def parse_limit(text: str) -> float:
    """Seconds allowed for parsing `text`: generous for its length (100 kB parses in
    about half a second) and for a loaded machine (a parse that is only slow must not
    turn a deny into an ask), short enough that a stuck parse is noticed."""
    return 2.0 + len(text) / 20_000
