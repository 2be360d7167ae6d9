"""The program specs: every example in policies/programs.toml holds, and bad spec files
fail with one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from friday.permissions.shell import analyze_shell
from friday.permissions.specs import SpecError, load_specs, parse_specs
from friday.permissions.verdict import ShellContext

CTX = ShellContext(cwd="/work/proj", root="/work/proj", home="/home/u")
SPECS = load_specs()


@pytest.mark.parametrize(
    "example", SPECS.examples, ids=[f"{e.decision}:{e.command[:50]}" for e in SPECS.examples]
)
def test_spec_example(example):
    verdict = analyze_shell(example.command, CTX, SPECS)
    assert verdict.decision == example.decision, verdict.explain(example.command)


GROUPED = sorted((name, spec) for name, spec in SPECS.programs.items() if spec.category is not None)


@pytest.mark.parametrize("name,spec", GROUPED, ids=[n for n, _ in GROUPED])
def test_every_grouped_program_gets_its_group_decision(name, spec):
    verdict = analyze_shell(f"{name} x", CTX, SPECS)
    assert verdict.decision == spec.main.decision
    assert any(r.code == spec.main.code and spec.main.message in r.message for r in verdict.reasons)


def test_every_program_entry_has_examples():
    text = (Path(__file__).parents[2] / "policies" / "programs.toml").read_text()
    assert text.count("[program.") > 50
    assert len(SPECS.programs) >= 300


def test_default_specs_are_cached():
    assert load_specs() is load_specs()


GOOD = """
[program.foo]
decision = "allow"
allow = ["foo x"]
"""


@pytest.mark.parametrize(
    "text,needle",
    [
        ("[program.foo\n", "not valid TOML"),
        (
            GOOD.replace('decision = "allow"', 'decision = "allow"\nbogus = 1'),
            "unknown key 'bogus'",
        ),
        (GOOD.replace('"allow"\n', '"maybe"\n', 1), "decision must be one of"),
        (GOOD.replace('allow = ["foo x"]', ""), "needs at least one example"),
        ('[program.foo]\ndecision = "ask"\nask = ["foo"]\n', "needs a message"),
        (
            '[program.foo]\ndecision = "ask"\ncode = "NOPE"\nmessage = "m"\nask = ["foo"]\n',
            "unknown reason code",
        ),
        ('[program.foo]\nhandler = "nope"\nallow = ["foo"]\n', "unknown handler"),
        ('[program.foo]\nany_args = true\nexec_flags = ["-x"]\nallow = ["foo"]\n', "any_args"),
        ('[program.foo]\nvalue_flags = "-x"\nallow = ["foo"]\n', "list of non-empty strings"),
        ("[other]\nx = 1\n", "unknown top-level key"),
        (
            '[group.g]\ndecision = "allow"\nprograms = ["g"]\nallow = ["g"]\n',
            "for programs that ask",
        ),
    ],
)
def test_bad_spec_text_fails_with_file_and_line(text, needle):
    with pytest.raises(SpecError) as err:
        parse_specs(text, "my.toml")
    message = str(err.value)
    assert message.startswith("my.toml")
    assert needle in message
    assert "\n" not in message


def test_unknown_key_names_its_line():
    text = GOOD + '\n[program.bar]\ndecision = "allow"\nwat = 2\nallow = ["bar"]\n'
    with pytest.raises(SpecError, match=r"^my\.toml:8: unknown key 'wat'"):
        parse_specs(text, "my.toml")


def test_extra_spec_file_layers_on_top(tmp_path):
    extra = tmp_path / "extra.toml"
    extra.write_text('[program.mytool]\ndecision = "allow"\nallow = ["mytool --help"]\n')
    specs = load_specs([extra])
    assert analyze_shell("mytool --help", CTX, specs).decision == "allow"
    assert analyze_shell("mytool --help", CTX).decision == "ask"


def test_extra_spec_example_contradicting_its_decision_fails(tmp_path):
    extra = tmp_path / "extra.toml"
    extra.write_text('[program.mytool]\ndecision = "allow"\nallow = ["mytool > out.txt"]\n')
    with pytest.raises(SpecError) as err:
        load_specs([extra])
    assert str(err.value).startswith(f"{extra}:3: example 'mytool > out.txt' is listed as allow")


def test_extra_spec_file_missing(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        load_specs([tmp_path / "nope.toml"])
