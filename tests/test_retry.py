"""The retry and fallback chain, with a fake clock."""

from __future__ import annotations

import pytest

from friday.messages import Msg
from friday.models.base import (
    Completed,
    FellBack,
    ModelError,
    Request,
    Retrying,
    TextChunk,
    kind_for_status,
    parse_retry_after,
)
from friday.models.retry import RetryingModel, RetryPolicy
from friday.models.scripted import ScriptedModel

REQUEST = Request(system="s", messages=(Msg.user("hi"),))


async def run(chain: RetryingModel):
    return [ev async for ev in chain.stream(REQUEST)]


DEFAULT_POLICY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=8.0)


def chain_of(*scripts, policy=DEFAULT_POLICY):
    delays: list[float] = []

    async def sleep(d: float) -> None:
        delays.append(d)

    models = [ScriptedModel(t, model_id=f"m{i}") for i, t in enumerate(scripts)]
    return RetryingModel(models, policy, sleep=sleep, rand=lambda: 1.0), models, delays


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
async def test_retryable_statuses_are_retried(status):
    chain, models, delays = chain_of([{"status": status}, {"text": "ok"}])
    events = await run(chain)
    assert [type(e) for e in events] == [Retrying, TextChunk, Completed]
    assert events[0].error.status == status and len(models[0].requests) == 2
    assert delays == [1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried_nor_fall_back(status):
    chain, models, delays = chain_of([{"status": status}], [{"text": "never"}])
    with pytest.raises(ModelError) as info:
        await run(chain)
    assert info.value.status == status and not info.value.retryable
    assert len(models[0].requests) == 1 and models[1].requests == [] and delays == []
    assert info.value.model == "scripted:m0"


async def test_backoff_is_exponential_capped_and_jittered():
    chain, _, delays = chain_of(
        [{"status": 500}] * 5 + [{"text": "ok"}],
        policy=RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=5.0),
    )
    await run(chain)
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]
    low = RetryPolicy(base_delay=1.0, max_delay=8.0)
    err = ModelError("server", "x")
    assert low.delay(3, err, lambda: 0.0) == 2.0  # jitter keeps at least half
    assert low.delay(3, err, lambda: 1.0) == 4.0


async def test_retry_after_is_honoured():
    chain, _, delays = chain_of([{"status": 429, "retry_after": 7.5}, {"text": "ok"}])
    events = await run(chain)
    assert delays == [7.5] and events[0].delay == 7.5


async def test_a_retry_after_beyond_the_limit_moves_to_the_fallback_at_once():
    chain, models, delays = chain_of([{"status": 429, "retry_after": 3600}], [{"text": "b"}])
    events = await run(chain)
    assert [type(e) for e in events] == [FellBack, TextChunk, Completed]
    assert delays == [] and events[0].to_model == "scripted:m1"


async def test_exhausted_retries_fall_back_then_raise_at_the_end_of_the_chain():
    chain, models, delays = chain_of([{"status": 529}] * 3, [{"status": 503}] * 3)
    with pytest.raises(ModelError) as info:
        async for ev in chain.stream(REQUEST):
            if isinstance(ev, FellBack):
                assert (ev.from_model, ev.to_model) == ("scripted:m0", "scripted:m1")
    assert info.value.status == 503 and info.value.retryable
    assert [len(m.requests) for m in models] == [3, 3]
    assert len(delays) == 4


async def test_a_cut_stream_is_retried_from_the_start():
    chain, _, _ = chain_of(
        [{"text": "abcdefgh", "chunk_size": 2, "cut_after": 2}, {"text": "whole", "chunk_size": 9}]
    )
    events = await run(chain)
    assert [type(e) for e in events] == [TextChunk, TextChunk, Retrying, TextChunk, Completed]
    assert events[-1].message.text == "whole"


def test_status_kinds_and_retry_after_parsing():
    assert [kind_for_status(s) for s in (400, 401, 403, 404, 408, 409, 429, 500, 529)] == [
        "bad_request", "auth", "permission", "not_found", "timeout", "conflict", "rate_limit",
        "server", "overloaded",
    ]  # fmt: skip
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


async def test_aclose_closes_every_model_of_the_chain():
    closed: list[str] = []

    class Closable(ScriptedModel):
        async def aclose(self) -> None:
            closed.append(self.name)

    chain = RetryingModel(
        [Closable([], model_id="a"), ScriptedModel([]), Closable([], model_id="b")]
    )
    await chain.aclose()
    assert closed == ["scripted:a", "scripted:b"]
