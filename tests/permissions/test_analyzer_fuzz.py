"""Random input never raises out of the analyzer: every string gets a Verdict."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from friday.permissions.shell import analyze_shell
from friday.permissions.verdict import ShellContext, Verdict

CTX = ShellContext(cwd="/work/proj", root="/work/proj", home="/home/u")
TOKENS = [
    "ls", "rm", "-rf", "/", "~", "$(", ")", "`", "${", "}", "{", "'", '"', "\\", "|", "&", ";",
    "&&", "||", "\n", "<", ">", ">>", "<<", "EOF", "<(", ">(", "$'", "$x", "*", "?", "[", "]",
    "(", "=", "X=1", "bash", "-c", "find", "-exec", "\\;", "+", "xargs", "env", "sudo", "git",
    "-c", "sed", "s/a/b/e", "awk", "{print}", "eval", ".env", "if", "then", "fi", "for", "in",
    "do", "done", "while", "case", "esac", "!", "#", " ", "\t", "$((", "))", "@P", ":",
]  # fmt: skip
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(command: str) -> None:
    verdict = analyze_shell(command, CTX)
    assert isinstance(verdict, Verdict)
    assert verdict.decision in ("allow", "ask", "deny")
    for reason in verdict.reasons:
        if reason.span is not None:
            assert 0 <= reason.span[0] <= reason.span[1] <= len(command)
        if reason.sub is not None:
            assert 0 <= reason.sub < len(verdict.subcommands)


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_never_raises(command):
    _check(command)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_shell_like_tokens_never_raise(command):
    _check(command)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
def test_spaced_tokens_never_raise(command):
    _check(command)


def test_internal_error_becomes_parse_error_ask(monkeypatch):
    from friday.permissions.shell import analyze

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(analyze, "run", boom)
    verdict = analyze_shell("ls", CTX)
    assert verdict.decision == "ask"
    assert [r.code for r in verdict.reasons] == ["PARSE_ERROR"]


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
def test_no_internal_errors_behind_the_safety_net(command):
    """The catch-all in analyze_shell is a net, not a crutch: the analysis itself handles
    every input that bashlex parses."""
    from friday.permissions.shell.analyze import run
    from friday.permissions.specs import load_specs

    assert run(command, CTX, load_specs()).decision in ("allow", "ask", "deny")


@pytest.mark.parametrize("command", ["'${~'~", "echo a'${x'", "ls x'${HOME' y", "a'${'"])
def test_an_unclosed_brace_expansion_is_a_parse_error_not_an_endless_loop(command):
    """bashlex loops for ever (growing memory) on `${` with no `}` after a quote it
    misreads; the guard makes it a "bad substitution" at once."""
    verdict = analyze_shell(command, CTX)
    assert verdict.decision == "ask"
    assert [r.code for r in verdict.reasons] == ["PARSE_ERROR"]
    assert "bad substitution" in verdict.reasons[0].message


def test_a_parse_that_never_ends_is_stopped(monkeypatch):
    """A loop nobody has found yet: the watchdog turns it into an ask."""
    import bashlex

    def endless(text):
        while True:
            pass

    monkeypatch.setattr(bashlex, "parse", endless)
    monkeypatch.setattr("friday.permissions.shell.walk.parse_limit", lambda text: 0.2)
    verdict = analyze_shell("ls", CTX)
    assert verdict.decision == "ask"
    assert [r.code for r in verdict.reasons] == ["LIMIT"]


def test_watchdog_interrupts_only_the_slow_call():
    import time

    from friday.permissions.shell.watchdog import WATCHDOG, ParseTimeout

    assert WATCHDOG.call(5, sum, range(3)) == 3  # a finished call is never interrupted later
    time.sleep(0.05)

    def forever():
        while True:
            time.sleep(0.001)

    with pytest.raises(ParseTimeout):
        WATCHDOG.call(0.05, forever)
    assert analyze_shell("ls", CTX).decision == "allow"


def test_a_deadline_passing_as_the_parse_ends_never_escapes_the_with():
    """The watchdog's exception is raised out of `WATCHDOG.call()` or not at all:
    never later, in code that does not expect a BaseException."""
    import time

    from friday.permissions.shell.watchdog import WATCHDOG, ParseTimeout

    def spin(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    leaked = 0
    for i in range(200):
        try:
            try:  # noqa: SIM105 (plain try: no Python-level context manager around the call)
                WATCHDOG.call(0.0002 * (i % 5), spin, 0.0002 * (i % 7))
            except ParseTimeout:
                pass
            sum(range(5000))  # bytecodes where a stray pending exception would surface
        except ParseTimeout:
            leaked += 1
    assert leaked == 0


def test_the_watchdog_still_stops_a_stuck_parse_after_many_racing_deadlines():
    """Deadlines that fire at every possible moment (before, during and after the call)
    must never wedge the watchdog: an exception landing inside Python-level locking once
    left it blocked for good, and the next stuck parse then ran forever."""
    import time

    from friday.permissions.shell.watchdog import WATCHDOG, ParseTimeout

    def spin(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    for i in range(3000):
        try:  # noqa: SIM105 (plain try: no Python-level context manager around the call)
            WATCHDOG.call(0.0001 * (i % 4), spin, 0.0001 * (i % 5))
        except ParseTimeout:
            pass
    with pytest.raises(ParseTimeout):  # a wedged watchdog lets the 20 s spin finish
        WATCHDOG.call(0.05, spin, 20)
    assert analyze_shell("'${~'~", CTX).decision == "ask"
