"""One simple command: its assignments, redirects, substitutions and argv."""

from __future__ import annotations

import posixpath
import re

from friday.permissions.shell import paths
from friday.permissions.shell.core import Analysis
from friday.permissions.shell.words import Word, make_word, secret_param
from friday.permissions.verdict import (
    COMMAND_SUBSTITUTION,
    DESTRUCTIVE_TARGET,
    DYNAMIC_EXPANSION,
    ENV_ASSIGNMENT,
    PATH_PROGRAM,
    PIPE_TO_SHELL,
    REDIRECT_WRITE,
    SECRET_READ,
    UNKNOWN_PROGRAM,
    UNSUPPORTED_SYNTAX,
)

CANONICAL_DIRS = frozenset({"/bin", "/usr/bin", "/sbin", "/usr/sbin"})
BENIGN_ENV = frozenset(
    {
        "LANG", "LANGUAGE", "TZ", "NO_COLOR", "TERM", "COLUMNS", "LINES", "CI", "FORCE_COLOR",
        "CLICOLOR", "CLICOLOR_FORCE", "COLORTERM", "GIT_TERMINAL_PROMPT", "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "TERM_PROGRAM", "LESS", "DEBIAN_FRONTEND",
    }
)  # fmt: skip
PAGER_ENV = frozenset({"PAGER", "GIT_PAGER", "MANPAGER", "SYSTEMD_PAGER"})
WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
FETCHERS = frozenset({"curl", "wget", "fetch", "http", "https", "aria2c", "xh", "lynx"})
SHELL_LIKE = frozenset(
    {
        "sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "busybox",
        "python", "perl", "ruby", "node", "nodejs", "php", "lua", "deno", "bun", "source",
        ".", "eval", "pypy", "tclsh", "Rscript", "osascript", "pwsh", "exec",
    }
)  # fmt: skip


def shell_like(names: set[str]) -> bool:
    """Whether any of the programs runs code it reads (python3.12 counts as python)."""
    return any(n in SHELL_LIKE or n.rstrip("0123456789.") in SHELL_LIKE for n in names)


def simple_command(an: Analysis, node: object, src: str) -> None:
    """Judge one CommandNode: substitutions first (their own sub-commands), then the
    command with what they showed."""
    idx = an.new_sub(an.span(node.pos))
    assigns, words, redirects = [], [], []
    for part in node.parts:
        if part.kind == "assignment":
            assigns.append(part)
        elif part.kind == "word":
            words.append(part)
        elif part.kind == "redirect":
            redirects.append(part)
        else:
            an.add(
                UNSUPPORTED_SYNTAX,
                "ask",
                f"the command uses a construct the checker does not judge ({part.kind}).",
                an.span(part.pos),
                idx,
            )
    saved = an.cwd
    argv = []
    for n in words:
        w = make_word(n, src, an.span(n.pos))
        substitutions(an, n, w, src)
        argv.append(w)
    for n in assigns:
        w = make_word(n, src, an.span(n.pos))
        substitutions(an, n, w, src)
        judge_assignment(an, w, idx, bare=not words)
        if w.subst and w.inner_decision != "allow":
            _subst_reason(an, w, idx)
    an.cwd = saved
    inner = judge_redirects(an, redirects, src, idx, argv[0].text if argv else None)
    if argv:
        judge_argv(an, idx, argv, extra_programs=inner)
    else:
        an.finish_sub(idx, tuple(w.text for w in argv), None, ())


def substitutions(an: Analysis, node: object, word: Word, src: str) -> None:
    """Judge the commands inside `$(..)`, backticks and `<(..)` of a word; they run in a
    subshell, so a `cd` in them does not move the rest."""
    if not word.subst:
        return
    from friday.permissions.shell.walk import walk

    mark = an.mark()
    saved = an.cwd
    for sub in word.subst:
        an.depth += 1
        try:
            _inner_text(an, sub, src, walk)
        finally:
            an.depth -= 1
        an.cwd = saved
    word.inner_decision = an.decision_since(mark)
    word.inner_programs = an.programs_since(mark)


def _inner_text(an: Analysis, sub: object, src: str, walk: object) -> None:
    """Judge a substitution from its own text, parsed again: bashlex keeps only the first
    command of `$(a\nb)`, so its sub-tree cannot be trusted to hold every command."""
    from friday.permissions.shell.walk import analyze_text

    start = sub.pos[0]
    end = _closing(src, start)
    text = src[start:end] if end else ""
    if text[:2] in ("$(", "<(", ">(") and text.endswith(")"):
        analyze_text(an, text[2:-1], None, an.offsets[-1] + start + 2)
    elif text[:1] == "`" and text.endswith("`") and "\\" not in text:
        analyze_text(an, text[1:-1], None, an.offsets[-1] + start + 1)
    else:
        an.add(
            DYNAMIC_EXPANSION,
            "ask",
            "a substitution the checker cannot read exactly (escapes inside backticks).",
            an.span(sub.pos),
        )
        walk(an, sub.command, src)  # type: ignore[operator]


def _closing(src: str, start: int) -> int | None:
    """The index after the `)` (or backtick) closing the substitution at `start`, found
    on the text (bashlex's own end position stops at the first command)."""
    if src.startswith("`", start):
        j = start + 1
        while j < len(src):
            if src[j] == "\\":
                j += 2
                continue
            if src[j] == "`":
                return j + 1
            j += 1
        return None
    depth, j, n = 0, start + 1, len(src)
    while j < n:
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "'":
            close = src.find("'", j + 1)
            if close < 0:
                return None
            j = close + 1
            continue
        if c == '"':
            j = _dq_end(src, j)
            if j is None:
                return None
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return None


def _dq_end(src: str, j: int) -> int | None:
    """Index after the double-quoted string starting at j (nested `$(..)` skipped)."""
    k = j + 1
    while k < len(src):
        c = src[k]
        if c == "\\":
            k += 2
            continue
        if c == '"':
            return k + 1
        if src.startswith("$(", k):
            end = _closing(src, k)
            if end is None:
                return None
            k = end
            continue
        k += 1
    return None


def _subst_reason(an: Analysis, word: Word, idx: int | None) -> None:
    an.add(
        COMMAND_SUBSTITUTION,
        "ask",
        "the command uses the output of another command as an argument; what it receives "
        "cannot be checked in advance.",
        word.span,
        idx,
    )


def judge_assignment(an: Analysis, w: Word, idx: int | None, *, bare: bool) -> None:
    """`VAR=x cmd` and a bare `VAR=x`: only a small set of harmless names is allowed
    (LD_PRELOAD, PATH, PYTHONPATH, GIT_*, BASH_ENV, IFS ... all change what runs)."""
    name, _, value = w.text.partition("=")
    name = name.rstrip("+")
    if benign_assignment(name, value, w):
        return
    where = "for the command" if not bare else "in the shell"
    an.add(
        ENV_ASSIGNMENT,
        "ask",
        f"setting {name} {where} can change what programs do.",
        w.span,
        idx,
    )


def benign_assignment(name: str, value: str, w: Word | None) -> bool:
    if w is not None and (w.dynamic or w.glob):
        return False
    if name in PAGER_ENV:
        return value == "cat"
    return name in BENIGN_ENV or name.startswith("LC_")


def judge_redirects(
    an: Analysis, redirects: list[object], src: str, idx: int | None, program: str | None
) -> set[str]:
    """Writes to files ask, to devices and system files deny; input from a secret asks.
    Returns the programs run inside redirect substitutions (`bash < <(curl ..)`)."""
    inner: set[str] = set()
    for r in redirects:
        heredoc = getattr(r, "heredoc", None)
        if heredoc is not None:
            _heredoc(an, r, heredoc, src, idx)
        target = r.output
        if isinstance(target, int) or target is None or getattr(target, "kind", "") != "word":
            continue
        w = make_word(target, src, an.span(target.pos))
        substitutions(an, target, w, src)
        inner |= w.inner_programs
        if w.subst and w.inner_decision != "allow":
            _subst_reason(an, w, idx)
        if r.type in WRITE_REDIRECTS:
            _write_redirect(an, w, an.span(r.pos), idx)
        elif r.type in ("<", "<&"):
            check_read_operand(an, w, idx)
    del program
    return inner


def _heredoc(an: Analysis, r: object, heredoc: object, src: str, idx: int | None) -> None:
    body = getattr(heredoc, "value", "")
    delim = src[r.output.pos[0] : r.output.pos[1]] if hasattr(r.output, "pos") else ""
    quoted = any(c in delim for c in "'\"\\")
    if not quoted and ("$" in body or "`" in body):
        an.add(
            DYNAMIC_EXPANSION,
            "ask",
            "the heredoc body expands $ or backticks, which the checker does not parse.",
            an.span(r.pos),
            idx,
        )


def _write_redirect(an: Analysis, w: Word, span: tuple[int, int], idx: int | None) -> None:
    path = an.expand(w.text) if w.literal or (w.tilde and not w.dynamic) else None
    if path is not None and paths.harmless_sink(path):
        return
    if path is not None:
        why = paths.system_write(path)
        if why:
            an.add(
                DESTRUCTIVE_TARGET,
                "deny",
                f"the redirect writes where it must not: {why}.",
                span,
                idx,
                path,
            )
            return
    if path is not None and paths.startup_file(path, an.home):
        msg = f"the command writes to {path}, a shell startup file that runs in every shell."
    elif path is not None:
        msg = f"the command writes to {path}."
    else:
        msg = "the command writes to a file whose name is only known at run time."
    an.add(REDIRECT_WRITE, "ask", msg, span, idx, path)


PARAM = re.compile(r"\$\{?(?!HOME\b|PWD\b)(?:[A-Za-z_][A-Za-z0-9_]*|[@*#?$!0-9-])\}?")


def check_read_operand(an: Analysis, w: Word, idx: int | None) -> None:
    """A word that names a file a program reads: ask when it is (or may expand to) a secret."""
    if w.subst or w.problems:
        return
    texts = [w.text]
    if ":" in w.text and not w.text.startswith("/"):
        texts.append(w.text.rsplit(":", 1)[1])  # HEAD:.env, host:~/.ssh/id_rsa
    for text in texts:
        _secret_path(an, w, text, idx)


def _secret_path(an: Analysis, w: Word, text: str, idx: int | None) -> None:
    glob = w.glob
    if w.params and not (w.subst or w.problems):
        text, n = PARAM.subn("*", text)  # $DIR/.env may be a secret whatever $DIR is
        glob = glob or n > 0
    path = an.expand(text) if text else None
    if path is None:
        return
    if paths.BLOCK_DEVICE.match(path):
        an.add(SECRET_READ, "ask", f"{path} is a raw disk.", w.span, idx, path)
        return
    pattern = paths.secret_match(path, an.home, glob=glob)
    if pattern:
        an.add(
            SECRET_READ,
            "ask",
            f"{path} may hold secrets (it matches {pattern!r}).",
            w.span,
            idx,
            path,
        )


def judge_words(an: Analysis, idx: int, argv: list[Word]) -> bool:
    """Word-level checks for every word; False when argv[0] cannot be known."""
    ok = True
    for i, w in enumerate(argv):
        if w.problems:
            an.add(
                DYNAMIC_EXPANSION,
                "ask",
                f"the word uses {w.problems[0]}, which the checker does not model.",
                w.span,
                idx,
            )
        if "IFS" in w.params:
            an.add(DYNAMIC_EXPANSION, "ask", "$IFS splits words at run time.", w.span, idx)
        for name in w.params:
            if secret_param(name):
                an.add(SECRET_READ, "ask", f"${name} looks like a secret.", w.span, idx)
        if i == 0 and (w.dynamic or w.glob):
            an.add(
                DYNAMIC_EXPANSION,
                "ask",
                "the program name is only known at run time.",
                w.span,
                idx,
            )
            ok = False
    return ok


def program_name(an: Analysis, idx: int, w: Word) -> tuple[str, bool]:
    """The spec name for argv[0] and whether it is trusted: `/usr/bin/git` is git, but
    `./cat` or `/tmp/x/cat` is some other program that happens to share the name."""
    name = w.text
    if "/" not in name:
        return name, True
    folder, base = posixpath.split(name)
    if folder in CANONICAL_DIRS and base:
        return base, True
    an.add(
        PATH_PROGRAM,
        "ask",
        f"{name} runs a program by path, not the system {base or name}.",
        w.span,
        idx,
    )
    return base, False


def judge_argv(
    an: Analysis,
    idx: int,
    argv: list[Word],
    *,
    extra_programs: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Judge a simple command's argv (also used for commands unwrapped from wrappers)."""
    from friday.permissions.shell.programs import judge_program

    if not judge_words(an, idx, argv):
        an.finish_sub(idx, tuple(w.text for w in argv), None, ())
        return
    name, trusted = program_name(an, idx, argv[0])
    spec = an.specs.get(name)
    inner = set(extra_programs)
    for w in argv:
        inner |= w.inner_programs
    if spec is None:
        an.add(
            UNKNOWN_PROGRAM,
            "ask",
            f"{name} is not a program the checker knows to be safe.",
            argv[0].span,
            idx,
        )
        an.finish_sub(idx, tuple(w.text for w in argv), None, (name, "*") if trusted else ())
        return
    if shell_like({spec.name, name}) and inner & FETCHERS:
        an.add(
            PIPE_TO_SHELL,
            "deny",
            "a download is fed to a shell or interpreter: it would run code from the "
            "network unseen.",
            an.subs[idx].span,
            idx,
        )
    mark = len(an.reasons)
    scope = judge_program(an, idx, spec, argv)
    if not trusted:  # only deny-class findings of the named program still count
        an.reasons[mark:] = [r for r in an.reasons[mark:] if r.decision == "deny" or r.sub != idx]
        scope = ()
    subst = [w for w in argv if w.subst]
    if subst and not (spec.any_args and all(w.inner_decision == "allow" for w in subst)):
        _subst_reason(an, subst[0], idx)
    an.finish_sub(idx, tuple(w.text for w in argv), spec, scope)
    an.programs[idx].add(name)


SPACE = re.compile(r"\s+")
