"""The whole read -> edit -> re-read flow through the agent loop with the scripted model:
what the model is sent, what the tool.finished events carry, and the step numbers the
read cache quotes."""

from __future__ import annotations

from pathlib import Path

from friday.agent import Agent, AgentConfig
from friday.events import ToolFinished, ToolStarted
from friday.models.scripted import ScriptedModel
from friday.tools.base import ToolRegistry
from friday.tools.files import FILE_TOOLS, FileState
from tests.files.conftest import PNG

APP = "def greet(name):\n    return 'hi ' + name\n"


def call(name: str, **arguments) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


async def run(ws: Path, turns: list[dict], state: FileState | None = None):
    model = ScriptedModel(turns)
    agent = Agent(
        model,
        ToolRegistry(FILE_TOOLS),
        AgentConfig(system_prompt="S", cwd=ws),
        file_state=state or FileState(),
    )
    events = [ev async for ev in agent.run("make greet say hello")]
    return model, events, [e for e in events if isinstance(e, ToolFinished)]


async def test_read_edit_reread(ws: Path):
    (ws / "app.py").write_text(APP)
    model, events, done = await run(
        ws,
        [
            call("read_file", path="app.py"),
            call("edit_file", path="app.py", old_string="'hi '", new_string="'hello '"),
            call("read_file", path="app.py"),
            call("read_file", path="app.py"),
            {"text": "Done."},
        ],
    )
    assert [e.name for e in done] == ["read_file", "edit_file", "read_file", "read_file"]
    assert [e.result.is_error for e in done] == [False] * 4
    assert done[0].result.text == "     1\tdef greet(name):\n     2\t    return 'hi ' + name"
    assert done[1].result.text == (
        "Edited app.py: 1 replacement, +1 -1 lines.\n"
        "-    2\t    return 'hi ' + name\n+    2\t    return 'hello ' + name"
    )
    assert done[1].meta["diff"].endswith("-    return 'hi ' + name\n+    return 'hello ' + name")
    # the re-read after the edit returns the new text, the one after that the note
    assert done[2].result.text == "     1\tdef greet(name):\n     2\t    return 'hello ' + name"
    assert done[3].meta["unchanged_since_step"] == 3
    assert done[3].result.text.startswith("Unchanged since your read at step 3:")
    assert (ws / "app.py").read_text() == APP.replace("'hi '", "'hello '")
    # what the model saw: each tool result went back in the next request
    results = [r.messages[-1].content[0] for r in model.requests[1:]]
    assert [r.content for r in results] == [e.result.text for e in done]
    assert events[-1].stop_reason == "end_turn"


async def test_edit_without_read_is_an_error_result_the_model_sees(ws: Path):
    (ws / "app.py").write_text(APP)
    model, _, done = await run(
        ws,
        [
            call("edit_file", path="app.py", old_string="'hi '", new_string="'hello '"),
            call("read_file", path="app.py"),
            call("edit_file", path="app.py", old_string="'hi '", new_string="'hello '"),
            {"text": "Done."},
        ],
    )
    assert done[0].result.is_error
    assert done[0].result.text.startswith("[not_read] app.py has not been read")
    assert done[0].meta == {"error": "not_read"}
    assert model.requests[1].messages[-1].content[0].is_error
    assert not done[2].result.is_error
    assert "hello" in (ws / "app.py").read_text()


async def test_outside_change_between_turns_is_caught(ws: Path):
    (ws / "app.py").write_text(APP)
    state = FileState()
    await run(ws, [call("read_file", path="app.py"), {"text": "ok"}], state)
    (ws / "app.py").write_text(APP + "# edited by the user\n")
    _, _, done = await run(
        ws,
        [
            call("edit_file", path="app.py", old_string="'hi '", new_string="'hey '"),
            {"text": "ok"},
        ],
        state,
    )
    assert done[0].result.text.startswith("[stale] app.py was modified on disk")
    assert (ws / "app.py").read_text().endswith("# edited by the user\n")


async def test_parallel_reads_in_one_turn(ws: Path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (ws / name).write_text(name + "\n")
    reads = [{"name": "read_file", "arguments": {"path": n}} for n in ("a.txt", "b.txt", "c.txt")]
    model, events, done = await run(ws, [{"tool_calls": reads}, {"text": "ok"}])
    assert sorted(e.result.text for e in done) == [
        "     1\ta.txt",
        "     1\tb.txt",
        "     1\tc.txt",
    ]
    sent = [b.content for b in model.requests[1].messages[-1].content]
    assert sent == ["     1\ta.txt", "     1\tb.txt", "     1\tc.txt"]  # in call order
    # read_file is read-only, so the three started before any finished
    order = [type(e) for e in events if isinstance(e, (ToolStarted, ToolFinished))]
    assert order[:3] == [ToolStarted] * 3


async def test_image_read_reaches_the_model_as_an_image_block(ws: Path):
    (ws / "shot.png").write_bytes(PNG)
    model, _, done = await run(ws, [call("read_file", path="shot.png"), {"text": "ok"}])
    sent = model.requests[1].messages[-1].content[0]
    assert [b.type for b in sent.content] == ["text", "image"]
    assert sent.content[1].media_type == "image/png"
    assert done[0].meta["media_type"] == "image/png"
