"""The permission gate: one check before every tool call, and the one place questions
to the user come from.

The gate is middleware. Before a call runs it asks the policy for a verdict (the shell
analyzer for `bash`, the tool rules and the mode for the others); allow lets the call
run, deny answers it with a `[permission_denied]` result, and ask goes to the approver the
front end chose: the TUI's modal, a question on the terminal for `-p` runs that have one,
or, with no terminal at all, a refusal that tells the model what was refused, why, and how
the user can allow it. The file tools' own questions (a secret file, a write outside the
workspace) come through here too (`ctx.approvals`), so every request and every decision is
a `permission.requested` / `permission.resolved` event.

Answers: once; for this session (an allow rule for the parts that asked, derived from the
parse and shown with the question); always for this project (the same rule written to
`.friday/policy.toml`, also shown first); or no, with an optional message to the model.
An interrupt while a question is open resolves it as denied by "interrupt".
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from friday.events import PermissionRequested, PermissionResolved
from friday.messages import ToolResultBlock, ToolUseBlock
from friday.middleware import Middleware
from friday.permissions.verdict import (
    LIFTABLE,
    MODE,
    OUTSIDE_WORKSPACE,
    OVERRIDE,
    SECRET_READ,
    Reason,
    ShellContext,
    Verdict,
)
from friday.tools.base import ToolContext

DENIED = "permission_denied"
Choice = Literal["once", "session", "always", "deny"]


@dataclass(frozen=True)
class ApprovalRequest:
    """One question. `rules` are the allow rules a "this session" or "always for this
    project" answer would add; empty when no rule could cover it (then only "once" and
    "no" are offered)."""

    id: str
    tool: str
    arguments: dict[str, Any]
    summary: str  # what would run, in one line: the command, or "read_file .env"
    verdict: Verdict
    rules: tuple[Any, ...] = ()
    project_policy: Path | None = None  # where "always" writes

    @property
    def choices(self) -> tuple[Choice, ...]:
        if not self.rules:
            return ("once", "deny")
        return ("once", "session", "always", "deny")

    def rule_texts(self) -> list[str]:
        return [rule_text(r) for r in self.rules]

    def to_dict(self) -> dict[str, Any]:
        out = {**self.verdict.to_dict(), "summary": self.summary, "choices": list(self.choices)}
        if self.rules:
            out["rules"] = self.rule_texts()
            out["project_policy"] = str(self.project_policy) if self.project_policy else None
        return out


@dataclass(frozen=True)
class Answer:
    choice: Choice
    message: str = ""  # for "deny": words for the model
    by: str = "user"  # user | policy (no one to ask) | interrupt


class Approver(Protocol):
    """What a front end provides. `interactive` is False when no one can answer."""

    interactive: bool

    async def ask(self, request: ApprovalRequest) -> Answer: ...

    async def confirm_trust(self, policy_file: Path, rules: list[str]) -> bool: ...


class NoApprover:
    """For runs with no terminal (pipes, CI): every question is answered no, and the
    tool result says how the user can allow it next time."""

    interactive = False

    async def ask(self, request: ApprovalRequest) -> Answer:
        return Answer("deny", by="policy")

    async def confirm_trust(self, policy_file: Path, rules: list[str]) -> bool:
        return False


def rule_text(rule: Any) -> str:
    """A rule as a user would type it after --allow."""
    if rule.tool != "bash":
        return f"tool:{rule.tool}"
    return " ".join(_word(t) for t in rule.pattern)


def _word(token: str) -> str:
    """Quote a pattern word only when the shell would split or unquote it (`*` stays
    bare: in a rule it is the wildcard)."""
    safe = token and all(c.isalnum() or c in "*?-_./=:@%+,[]" for c in token)
    return token if safe else shlex.quote(token)


@dataclass
class PermissionGate(Middleware):
    policy: Any  # friday.permissions.policy.Policy
    approver: Approver
    root: Path
    home: str
    shell_cwd: Callable[[], Path] | None = None  # the shell tool's current directory
    writes: Callable[[str], bool] = lambda _name: True  # does this tool change files?
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _file_grants: set[tuple[str, str, str]] = field(default_factory=set)
    _notes: list[str] = field(default_factory=list)

    # -- the middleware hook ---------------------------------------------------------------

    async def before_tool(self, call: ToolUseBlock, ctx: ToolContext) -> ToolResultBlock | None:
        ctx.approvals = _FileApprovals(self, call, ctx)
        judged = self._judge(call)
        if judged is None:
            return None  # arguments the tool itself will reject
        verdict, summary = judged
        if verdict.reasons:
            ctx.meta["permission"] = {
                "decision": verdict.decision,
                "reasons": [r.code for r in verdict.reasons],
            }
        if verdict.decision == "allow":
            self._log_overrides(call, ctx, verdict)
            return None
        request = ApprovalRequest(
            id=call.id,
            tool=call.name,
            arguments=dict(call.input),
            summary=summary,
            verdict=verdict,
            rules=self._rules_for(call.name, verdict) if verdict.decision == "ask" else (),
            project_policy=_project_policy(self.root),
        )
        self._requested(ctx, request)
        if verdict.decision == "deny":
            text = _refused_by_policy(request)
            self._resolved(ctx, request, "deny", "mode" if _by_mode(verdict) else "policy", text)
            return ToolResultBlock(call.id, text, is_error=True)
        answer = await self._ask(request, ctx)
        if answer.choice == "deny":
            text = _declined(request, answer)
            self._resolved(ctx, request, "deny", answer.by, answer.message or None)
            return ToolResultBlock(call.id, text, is_error=True)
        self._grant(request, answer)
        notes, self._notes = "; ".join(self._notes), []
        self._resolved(
            ctx,
            request,
            "allow",
            answer.by,
            f"{answer.choice}; {notes}" if notes else answer.choice,
        )
        return None

    # -- judging ---------------------------------------------------------------------------

    def _judge(self, call: ToolUseBlock) -> tuple[Verdict, str] | None:
        if call.input_error:
            return None
        if call.name == "bash":
            command = call.input.get("command")
            if not isinstance(command, str) or not command.strip():
                return None
            return self.policy.judge_shell(command, self.shell_context()), command
        verdict = self.policy.judge_tool(call.name, writes=self.writes(call.name))
        return verdict, f"{call.name} {_short_args(call.input)}".strip()

    def shell_context(self) -> ShellContext:
        cwd = self.shell_cwd() if self.shell_cwd is not None else self.root
        return ShellContext(cwd=str(cwd), root=str(self.root), home=self.home)

    def _rules_for(self, tool: str, verdict: Verdict) -> tuple[Any, ...]:
        """The allow rules that would have let this call through, or () when no rule can
        (a reason no rule lifts, such as a redirect, a substitution or a secret read)."""
        from friday.permissions.rules import Rule

        asking = [r for r in verdict.reasons if r.decision != "allow"]
        if any(r.code not in LIFTABLE for r in asking):
            return ()
        if tool != "bash":
            return (Rule(pattern=(), decision="allow", tool=tool, source="session"),)
        rules: list[Any] = []
        for sub in sorted({r.sub for r in asking if r.sub is not None}):
            scope = verdict.subcommands[sub].scope
            if not scope:
                return ()
            rule = Rule(pattern=tuple(scope), decision="allow", source="session")
            if rule not in rules:
                rules.append(rule)
        if any(r.sub is None for r in asking):
            return ()
        return tuple(rules)

    # -- asking ----------------------------------------------------------------------------

    async def _ask(self, request: ApprovalRequest, ctx: ToolContext) -> Answer:
        # One question at a time: read-only calls run side by side and may each ask.
        try:
            async with self._lock:
                return await self.approver.ask(request)
        except asyncio.CancelledError:
            self._resolved(ctx, request, "deny", "interrupt", "interrupted")
            raise

    def _grant(self, request: ApprovalRequest, answer: Answer) -> None:
        if answer.choice in ("session", "always"):
            for rule in request.rules:
                self.policy.add_session_rule(rule)
        if answer.choice == "always":
            from friday.permissions.rules import PolicyError

            for rule in request.rules:
                try:
                    self.policy.append_project_rule(_project_rule(rule))
                except (PolicyError, OSError) as exc:
                    # The approval stands for this session; the file could not take it.
                    self._notes.append(f"could not save the rule to the project policy: {exc}")

    def _requested(self, ctx: ToolContext, request: ApprovalRequest) -> None:
        ctx.emit_event(
            PermissionRequested,
            request_id=request.id,
            tool=request.tool,
            arguments=request.arguments,
            analysis=request.to_dict(),
        )

    def _resolved(
        self, ctx: ToolContext, request: ApprovalRequest, decision: str, by: str, msg: str | None
    ) -> None:
        ctx.emit_event(
            PermissionResolved,
            request_id=request.id,
            tool=request.tool,
            decision=decision,
            by=by,
            message=msg,
        )

    def _log_overrides(self, call: ToolUseBlock, ctx: ToolContext, verdict: Verdict) -> None:
        """An override rule silenced built-in safety: say so where the user sees it."""
        for r in verdict.reasons:
            if r.code == OVERRIDE:
                ctx.emit_event(
                    PermissionResolved,
                    request_id=call.id,
                    tool=call.name,
                    decision="allow",
                    by="override",
                    message=r.message,
                )

    # -- the file tools' questions ---------------------------------------------------------

    async def file_request(self, call: ToolUseBlock, ctx: ToolContext, **q: str) -> bool:
        """A file tool asks: a secret file, or a write outside the workspace."""
        key = (call.name, q["path"], q["reason"])
        if key in self._file_grants:
            return True
        code = SECRET_READ if q["reason"] == "sensitive" else OUTSIDE_WORKSPACE
        reason = Reason(code, q["message"], "ask", path=q["path"])
        verdict = Verdict.of([reason])
        if self.policy.mode == "bypass":  # plan mode never gets here: judge_tool denied the write
            verdict = verdict.with_reasons([])
        request = ApprovalRequest(
            id=call.id,
            tool=call.name,
            arguments=dict(call.input),
            summary=f"{call.name} {q['path']}",
            verdict=verdict,
        )
        self._requested(ctx, request)
        if verdict.decision == "allow":
            self._resolved(ctx, request, "allow", "mode", None)
            return True
        answer = await self._ask(request, ctx)
        if answer.choice == "deny":
            self._resolved(ctx, request, "deny", answer.by, answer.message or None)
            raise _file_refusal(_declined(request, answer))
        if answer.choice in ("session", "always"):
            self._file_grants.add(key)
        self._resolved(ctx, request, "allow", answer.by, answer.choice)
        return True


@dataclass
class _FileApprovals:
    """The `ApprovalGate` the file tools see on ctx.approvals, bound to one call."""

    gate: PermissionGate
    call: ToolUseBlock
    ctx: ToolContext

    async def request(self, *, tool: str, path: str, reason: str, message: str) -> bool:
        return await self.gate.file_request(
            self.call, self.ctx, tool=tool, path=path, reason=reason, message=message
        )


# -- what the model reads -------------------------------------------------------------------


def _reasons_text(verdict: Verdict) -> str:
    parts = [f"{r.code}: {r.message}" for r in verdict.reasons if r.decision != "allow"]
    return "; ".join(dict.fromkeys(parts)) or "no reason given"


def _by_mode(verdict: Verdict) -> bool:
    return any(r.code == MODE for r in verdict.reasons)


def _refused_by_policy(request: ApprovalRequest) -> str:
    if _by_mode(request.verdict):
        return (
            f"[{DENIED}] Not run: `{request.summary}` ({_reasons_text(request.verdict)}). "
            "This session is in plan mode: read and explore only, then describe the changes "
            "you would make."
        )
    return (
        f"[{DENIED}] Not run: `{request.summary}` is refused by the permission policy "
        f"({_reasons_text(request.verdict)}). Do not retry it or a variant of it; find "
        "another way or tell the user what you need."
    )


def _declined(request: ApprovalRequest, answer: Answer) -> str:
    why = _reasons_text(request.verdict)
    if answer.by == "interrupt":
        return f"[{DENIED}] Not run: `{request.summary}`: the user interrupted the question."
    if answer.by == "user":
        said = f" The user said: {answer.message}" if answer.message else ""
        return (
            f"[{DENIED}] Not run: the user declined `{request.summary}` ({why}).{said} "
            "Do not retry it; choose another way or ask the user."
        )
    if request.rules:
        flags = " ".join(f"--allow {shlex.quote(t)}" for t in request.rule_texts())
        how = f"rerun with {flags}, or add an allow rule to .friday/policy.toml"
    else:
        how = "run the task in an interactive session to approve it"
    return (
        f"[{DENIED}] Not run: `{request.summary}` needs the user's approval ({why}), and "
        "this run has no terminal to ask on. Do not retry it; do what you can without it "
        f"and say in your answer what was not done. To allow it, the user can {how}."
    )


def _file_refusal(text: str) -> Exception:
    from friday.tools.files.errors import FileToolError

    return FileToolError(DENIED, text.removeprefix(f"[{DENIED}] "))


def _project_policy(root: Path) -> Path:
    """Where "always for this project" writes: the file the policy was read from."""
    from friday.permissions.policy import project_policy_path

    return project_policy_path(root)


def _project_rule(rule: Any) -> Any:
    from dataclasses import replace

    return replace(rule, source="", reason="approved with 'always for this project'")


def _short_args(args: dict[str, Any]) -> str:
    for key in ("path", "pattern", "file_path"):
        value = args.get(key)
        if isinstance(value, str):
            return value
    return ""
