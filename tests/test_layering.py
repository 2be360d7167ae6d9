"""The core imports no UI toolkit, and nothing heavy is imported before it is needed:
checked on module sets in a fresh interpreter (never on time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = [
    "friday.messages",
    "friday.events",
    "friday.models.base",
    "friday.models.retry",
    "friday.models.scripted",
    "friday.models.registry",
    "friday.models.anthropic",
    "friday.models.openai_chat",
    "friday.models.openai_responses",
    "friday.tools.base",
    "friday.tools.files",
    "friday.tools.search",
    "friday.tools.shell",
    "friday.permissions",
    "friday.permissions.verdict",
    "friday.permissions.policy",
    "friday.permissions.shell",
    "friday.permissions.gate",
    "friday.middleware",
    "friday.config",
    "friday.prompt",
    "friday.agent",
    "friday.runtime",
]
UI = {"textual", "rich", "prompt_toolkit"}
HEAVY = {"anthropic", "openai", "bashlex", "git", "textual", "tiktoken", "httpx", "httpx2"}


def loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True)
    last = out.stdout.decode().strip().splitlines()[-1]
    return {name.split(".")[0] for name in json.loads(last)}


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_ui_and_no_sdk(module: str):
    loaded = loaded_after(f"import {module}")
    assert not loaded & UI
    assert not loaded & HEAVY


def test_version_path_imports_only_the_cli():
    loaded = loaded_after(
        "import friday.cli\ntry:\n    friday.cli.main(['--version'])\nexcept SystemExit:\n    pass"
    )
    assert not loaded & (UI | HEAVY)
    assert not loaded & {"asyncio"}


def test_judging_a_command_loads_bashlex_but_no_ui():
    code = (
        "from friday.permissions import analyze\n"
        "from friday.permissions.verdict import ShellContext\n"
        "assert analyze('ls', ShellContext('/tmp', '/tmp', '/root')).decision == 'allow'"
    )
    loaded = loaded_after(code)
    assert "bashlex" in loaded
    assert not loaded & UI


def test_headless_runner_imports_no_ui_toolkit():
    assert not loaded_after("import friday.ui.headless") & (UI | HEAVY)


def test_prompt_outside_a_repository_does_not_load_gitpython(tmp_path):
    code = (
        "from pathlib import Path\nfrom friday.prompt import build_system_prompt\n"
        f"assert 'not a git repository' in build_system_prompt(Path({str(tmp_path)!r}))"
    )
    assert "git" not in loaded_after(code)


def test_version_path_needs_nothing_beyond_argparse():
    """Under `python -S` (no site hooks that import things on their own), `--version`
    loads neither typing, asyncio nor json: the fast path stays fast."""
    repo = str(Path(__file__).resolve().parents[1])
    probe = (
        f"import sys\nsys.path.insert(0, {repo!r})\nimport friday.cli\n"
        "try:\n    friday.cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('typing', 'asyncio', 'json', 'dataclasses') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, check=True)
    assert out.stdout.decode().splitlines() == ["friday 0.1.0", "[]"]


def test_front_ends_do_not_import_the_cli():
    """Imports point one way: cli sits above ui, so ui never imports friday.cli."""
    probe = "import sys, friday.ui.headless\nprint('friday.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True)
    assert out.stdout.decode().strip() == "False"
