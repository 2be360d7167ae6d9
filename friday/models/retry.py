"""Retries with backoff, then a fallback chain.

Retryable failures (408/409/429/5xx/529, connection errors, timeouts, a stream cut
before its end) are tried again with exponential backoff and full jitter, honouring the
server's `retry-after`. When a model's attempts are used up, the next model of the chain
takes over. Each retry and fallback is yielded as an event (`Retrying`, `FellBack`);
deltas yielded before a failure belong to the failed attempt and consumers drop them
(only `Completed` ever reaches the history, so nothing is duplicated). Errors that
retrying cannot fix (bad key, unknown model, bad request) are raised at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from friday.models.base import (
    Completed,
    FellBack,
    Model,
    ModelError,
    Request,
    Retrying,
    StreamEvent,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    # A server asking for a longer wait than this is not waited for: the model is
    # treated as unavailable and the fallback chain takes over.
    max_retry_after: float = 120.0

    def delay(self, attempt: int, error: ModelError, rand: Callable[[], float]) -> float:
        if error.retry_after is not None:
            return error.retry_after
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling * (0.5 + rand() / 2)


class RetryingModel:
    """A chain of models, the first preferred, behind the `Model` protocol."""

    def __init__(
        self,
        models: Sequence[Model],
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not models:
            raise ValueError("RetryingModel needs at least one model")
        self.models = list(models)
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        self.active = 0  # index of the model now in use; a fallback sticks for the session

    @property
    def current(self) -> Model:
        return self.models[self.active]

    @property
    def name(self) -> str:
        return self.current.name

    @property
    def provider(self) -> str:
        return self.current.provider

    @property
    def model_id(self) -> str:
        return self.current.model_id

    async def aclose(self) -> None:
        """Close every model's connections, on the loop that opened them."""
        for model in self.models:
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        while True:
            model = self.current
            error = None
            async for event in self._attempts(model, request):
                if isinstance(event, ModelError):
                    error = event
                    break
                yield event
                if isinstance(event, Completed):
                    return
            assert error is not None
            if self.active + 1 >= len(self.models):
                raise error
            self.active += 1
            yield FellBack(model.name, self.current.name, error)

    async def _attempts(
        self, model: Model, request: Request
    ) -> AsyncIterator[StreamEvent | ModelError]:
        """Stream from one model with retries; ends with `Completed`, or yields the
        retryable error that exhausted the attempts (non-retryable ones are raised)."""
        policy = self.policy
        for attempt in range(1, policy.max_attempts + 1):
            try:
                async for event in model.stream(request):
                    yield event
                return
            except ModelError as exc:
                if exc.model is None:
                    exc.model = model.name
                if not exc.retryable:
                    raise
                delay = policy.delay(attempt, exc, self._rand)
                if attempt == policy.max_attempts or delay > policy.max_retry_after:
                    yield exc
                    return
                yield Retrying(model.name, attempt, policy.max_attempts, exc, delay)
                await self._sleep(delay)
