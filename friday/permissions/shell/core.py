"""The state of one analysis: reasons and sub-commands found so far, the literal current
directory as `cd` moves it, and how positions in nested text (`bash -c '..'`) map back to
the command the user sees."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from friday.permissions.specs import ProgramSpec, Specs
from friday.permissions.verdict import SEVERITY, Decision, Reason, ShellContext, SubCommand

MAX_DEPTH = 60  # nesting of substitutions, wrappers and nested `bash -c` texts


@dataclass(slots=True)
class _Sub:
    argv: tuple[str, ...] = ()
    span: tuple[int, int] | None = None
    program: str | None = None
    scope: tuple[str, ...] = ()
    wrapper: str | None = None


@dataclass(slots=True)
class Mark:
    reasons: int
    subs: int


@dataclass(slots=True)
class Analysis:
    command: str
    ctx: ShellContext
    specs: Specs
    cwd: str | None = None
    root: str = "/"
    home: str = "/"
    reasons: list[Reason] = field(default_factory=list)
    subs: list[_Sub] = field(default_factory=list)
    programs: list[set[str]] = field(default_factory=list)  # per sub: programs it ran
    dirstack: list[str | None] = field(default_factory=list)
    clamp: list[tuple[int, int]] = field(default_factory=list)  # spans of enclosing words
    offsets: list[int] = field(default_factory=list)
    depth: int = 0
    salvaging: bool = False  # judging pieces of text that did not parse as a whole

    @classmethod
    def start(cls, command: str, ctx: ShellContext, specs: Specs) -> Analysis:
        def norm(p: str) -> str:
            return posixpath.normpath(p) if p else "/"

        return cls(
            command,
            ctx,
            specs,
            cwd=norm(ctx.cwd),
            root=norm(ctx.root),
            home=norm(ctx.home),
            offsets=[0],
        )

    # -- positions -------------------------------------------------------------------------
    def span(self, pos: tuple[int, int]) -> tuple[int, int]:
        """A bashlex position in the text being walked, as a span of the full command."""
        off = self.offsets[-1]
        start, end = pos[0] + off, pos[1] + off
        if self.clamp:
            lo, hi = self.clamp[-1]
            start, end = min(max(start, lo), hi), min(max(end, lo), hi)
        return (start, end)

    # -- results ---------------------------------------------------------------------------
    def add(
        self,
        code: str,
        decision: Decision,
        message: str,
        span: tuple[int, int] | None = None,
        sub: int | None = None,
        path: str | None = None,
    ) -> None:
        self.reasons.append(Reason(code, message, decision, span, sub, path))

    def new_sub(self, span: tuple[int, int] | None, wrapper: str | None = None) -> int:
        self.subs.append(_Sub(span=span, wrapper=wrapper))
        self.programs.append(set())
        return len(self.subs) - 1

    def finish_sub(
        self, idx: int, argv: tuple[str, ...], spec: ProgramSpec | None, scope: tuple[str, ...]
    ) -> None:
        sub = self.subs[idx]
        sub.argv, sub.program, sub.scope = argv, spec.name if spec else None, scope
        if spec is not None:
            self.programs[idx].add(spec.name)

    def mark(self) -> Mark:
        return Mark(len(self.reasons), len(self.subs))

    def decision_since(self, mark: Mark) -> Decision:
        best: Decision = "allow"
        for r in self.reasons[mark.reasons :]:
            if SEVERITY[r.decision] > SEVERITY[best]:
                best = r.decision
        return best

    def programs_since(self, mark: Mark) -> set[str]:
        out: set[str] = set()
        for names in self.programs[mark.subs :]:
            out |= names
        return out

    def subcommands(self) -> list[SubCommand]:
        return [SubCommand(s.argv, s.span, s.program, s.scope, s.wrapper) for s in self.subs]

    # -- paths -----------------------------------------------------------------------------
    def expand(self, text: str) -> str | None:
        from friday.permissions.shell.paths import expand

        return expand(text, self.cwd, self.home)
