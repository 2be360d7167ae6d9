"""Rules: parsing `--allow/--deny` text, matching argv (strict allow, loose deny/ask), and
what applying a rule does to a verdict's reasons."""

from __future__ import annotations

import pytest

from friday.permissions.rules import (
    PolicyError,
    Rule,
    apply_rules,
    parse_rule_text,
    rule_matches,
    tool_rule_matches,
)
from friday.permissions.verdict import (
    COMMAND_SUBSTITUTION,
    DESTRUCTIVE_TARGET,
    ENV_ASSIGNMENT,
    EXEC_FLAG,
    LIMIT,
    NETWORK,
    OVERRIDE,
    PROGRAM_ASK,
    REDIRECT_WRITE,
    RULE_ALLOW,
    RULE_ASK,
    RULE_DENY,
    SECRET_READ,
    UNKNOWN_PROGRAM,
    Reason,
    SubCommand,
    Verdict,
)

# -- parse_rule_text -------------------------------------------------------------------------


def test_flag_text_is_shell_words():
    rule = parse_rule_text("npm run 'test:unit'", "allow", "flag --allow")
    assert rule == Rule(("npm", "run", "test:unit"), "allow", source="flag --allow")
    assert rule.label() == "allow npm run test:unit (flag --allow)"


def test_flag_text_for_a_tool():
    rule = parse_rule_text("tool:write_file", "deny", "flag --deny")
    assert rule.pattern == () and rule.tool == "write_file" and rule.decision == "deny"
    assert tool_rule_matches(rule, "write_file") and not tool_rule_matches(rule, "read_file")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "needs a command pattern"),
        ("   ", "needs a command pattern"),
        ("npm 'run", "quote"),
        ("tool:", "name a non-shell tool"),
        ("tool:bash", "name a non-shell tool"),
        ("* status", "name its program literally"),
    ],
)
def test_bad_flag_text_is_one_line_with_a_hint(text, words):
    with pytest.raises(PolicyError) as err:
        parse_rule_text(text, "allow", "flag --allow")
    message = str(err.value)
    assert words in message and "\n" not in message and message.startswith("flag --allow")


def test_override_prefix_only_on_allow():
    rule = parse_rule_text("override:cat .env", "allow", "flag --allow")
    assert rule.override and rule.pattern == ("cat", ".env")
    with pytest.raises(PolicyError, match="only makes sense on --allow"):
        parse_rule_text("override:rm -rf /", "deny", "flag --deny")


# -- matching --------------------------------------------------------------------------------

RM_RF = Rule(("rm", "-r", "-f"), "deny")


@pytest.mark.parametrize(
    "argv",
    [
        "rm -r -f x",
        "rm -rf x",
        "rm -fr x",
        "rm -f -r x",
        "rm x -rf",
        "rm -rfv x",
        "rm -R -f x",
        "rm --recursive --force x",
        "/opt/x/rm -rf x",
        "/bin/rm -fr /",
    ],
)
def test_deny_catches_every_flag_spelling(argv):
    assert rule_matches(RM_RF, argv.split())


@pytest.mark.parametrize("argv", ["rm x", "rm -r x", "rm -f x", "rmdir -rf x", "echo rm -rf"])
def test_deny_needs_every_flag_and_the_program(argv):
    assert not rule_matches(RM_RF, argv.split())


def test_deny_clustered_pattern_equals_split_pattern():
    clustered = Rule(("rm", "-rf"), "deny")
    for argv in ("rm -fr a", "rm -r -f a", "rm a -f -r"):
        assert rule_matches(clustered, argv.split())


def test_deny_subcommand_words_in_order_flags_skipped():
    rule = Rule(("git", "push", "--force"), "deny")
    assert rule_matches(rule, ["git", "push", "origin", "--force"])
    assert rule_matches(rule, ["git", "--no-pager", "push", "--force=yes"])
    assert not rule_matches(rule, ["git", "commit", "-m", "push", "--force"])
    assert not rule_matches(rule, ["git", "push", "origin"])


@pytest.mark.parametrize(
    "argv",
    [
        "git -C . push --force",
        "git -C /some/dir --no-pager push -f origin",
        "git --git-dir .git push origin --force",
        "git push --forc",
        "git push --fo=true",
        "git -f push",
    ],
)
def test_deny_sees_through_option_values_and_abbreviations(argv):
    rule = Rule(("git", "push", "--force"), "deny")
    assert rule_matches(rule, argv.split())


@pytest.mark.parametrize("argv", ["rm --recurs --forc x", "rm --rec -f x", "rm --recursive --fo x"])
def test_deny_catches_abbreviated_long_flags(argv):
    assert rule_matches(RM_RF, argv.split())


def test_deny_does_not_skip_plain_arguments_to_reach_a_word():
    rule = Rule(("git", "push"), "deny")
    assert not rule_matches(rule, ["git", "log", "push"])
    assert not rule_matches(rule, ["git", "commit", "-m", "x", "push"])
    assert rule_matches(Rule(("git", "push"), "deny", exact=True), ["git", "-C", "d", "push"])
    assert not rule_matches(Rule(("git", "push"), "deny", exact=True), ["git", "push", "x"])


def test_single_dash_flag_with_value_matches_its_flag():
    rule = Rule(("go", "build", "-o"), "ask")
    assert rule_matches(rule, ["go", "build", "-o=/usr/local/bin/x", "."])
    assert not rule_matches(rule, ["go", "build", "-ldflags=-s", "."])


def test_ask_rule_matches_loosely_too():
    rule = Rule(("curl",), "ask")
    assert rule_matches(rule, ["/usr/local/bin/curl", "-s", "x"])


def test_allow_matches_strictly():
    rule = Rule(("npm", "run", "test"), "allow")
    assert rule_matches(rule, ["npm", "run", "test"])
    assert rule_matches(rule, ["npm", "run", "test", "--", "--watch=false"])
    assert not rule_matches(rule, ["/usr/bin/npm", "run", "test"])  # program exactly
    assert not rule_matches(rule, ["./npm", "run", "test"])
    assert not rule_matches(rule, ["npm", "run", "testing"])
    assert not rule_matches(rule, ["npm", "test", "run"])
    assert not rule_matches(rule, ["npm", "--silent", "run", "test"])  # literal prefix
    assert not rule_matches(rule, ["npm", "run"])


def test_allow_clustered_flags_are_not_split():
    rule = Rule(("ls", "-l", "-a"), "allow")
    assert rule_matches(rule, ["ls", "-l", "-a"])
    assert not rule_matches(rule, ["ls", "-la"])


def test_exact():
    rule = Rule(("make",), "allow", exact=True)
    assert rule_matches(rule, ["make"])
    assert not rule_matches(rule, ["make", "install"])
    deny = Rule(("git", "status"), "deny", exact=True)
    assert rule_matches(deny, ["git", "status"])
    assert not rule_matches(deny, ["git", "status", "-s"])


def test_globs_are_one_argument_each():
    rule = Rule(("git", "log", "-*"), "allow")
    assert rule_matches(rule, ["git", "log", "--oneline"])
    assert not rule_matches(rule, ["git", "log", "main"])
    star = Rule(("git", "*", "--help"), "allow")
    assert rule_matches(star, ["git", "push", "--help"])
    assert not rule_matches(star, ["git", "push", "origin", "--help"])
    glob = Rule(("pytest", "tests/*.py"), "allow")
    assert rule_matches(glob, ["pytest", "tests/test_a.py"])


def test_trailing_star_also_matches_nothing():
    for decision in ("allow", "deny"):
        rule = Rule(("git", "push", "*"), decision)  # type: ignore[arg-type]
        assert rule_matches(rule, ["git", "push"])
        assert rule_matches(rule, ["git", "push", "origin", "main"])
        assert not rule_matches(rule, ["git", "pull"])


def test_tool_star_matches_every_tool():
    rule = Rule((), "ask", tool="*")
    assert tool_rule_matches(rule, "write_file") and tool_rule_matches(rule, "bash")
    assert not rule_matches(rule, ["ls"])


# -- applying rules to a verdict -------------------------------------------------------------


def _verdict(*reasons: Reason, argvs=(("npm", "run", "test"),)) -> Verdict:
    subs = [SubCommand(tuple(a), span=(0, 3)) for a in argvs]
    return Verdict.of(list(reasons), subs)


ALLOW_NPM = Rule(("npm", "run", "test"), "allow", source="user p.toml:3")


def test_allow_lifts_program_reasons_and_says_so():
    v = _verdict(Reason(PROGRAM_ASK, "runs tests", "ask", sub=0))
    out = apply_rules(v, [ALLOW_NPM])
    assert out.decision == "allow"
    assert [r.code for r in out.reasons] == [RULE_ALLOW]
    assert out.reasons[0].sub == 0 and "user p.toml:3" in out.reasons[0].message
    assert out.matched_rules == (ALLOW_NPM.label(),)


@pytest.mark.parametrize(
    "code", [REDIRECT_WRITE, COMMAND_SUBSTITUTION, ENV_ASSIGNMENT, SECRET_READ]
)
def test_allow_cannot_lift_what_is_not_about_the_program(code):
    v = _verdict(
        Reason(PROGRAM_ASK, "runs tests", "ask", sub=0), Reason(code, "something", "ask", sub=0)
    )
    out = apply_rules(v, [ALLOW_NPM])
    assert out.decision == "ask"
    assert {r.code for r in out.reasons} == {code, RULE_ALLOW}


def test_whole_command_reasons_always_stay():
    v = _verdict(Reason(LIMIT, "too long", "ask"))
    assert apply_rules(v, [ALLOW_NPM]).decision == "ask"


def test_allow_applies_to_its_own_sub_command_only():
    v = _verdict(
        Reason(PROGRAM_ASK, "runs tests", "ask", sub=0),
        Reason(NETWORK, "downloads", "ask", sub=1),
        argvs=(("npm", "run", "test"), ("curl", "x")),
    )
    out = apply_rules(v, [ALLOW_NPM])
    assert out.decision == "ask"
    assert [(r.code, r.sub) for r in out.reasons] == [(NETWORK, 1), (RULE_ALLOW, 0)]


def test_guarded_reasons_need_override_and_the_override_is_visible():
    v = _verdict(
        Reason(SECRET_READ, "reads .env", "ask", sub=0),
        Reason(UNKNOWN_PROGRAM, "?", "ask", sub=0),
        argvs=(("cat", ".env"),),
    )
    plain = Rule(("cat", ".env"), "allow", source="user p.toml:1")
    assert apply_rules(v, [plain]).decision == "ask"
    over = Rule(("cat", ".env"), "allow", override=True, source="user p.toml:5")
    out = apply_rules(v, [over])
    assert out.decision == "allow"
    [note] = [r for r in out.reasons if r.code == OVERRIDE]
    assert "user p.toml:5" in note.message and "SECRET_READ" in note.message
    denied = _verdict(Reason(DESTRUCTIVE_TARGET, "rm -rf /", "deny", sub=0), argvs=(("rm",),))
    assert apply_rules(denied, [Rule(("rm",), "allow")]).decision == "deny"
    assert apply_rules(denied, [Rule(("rm",), "allow", override=True)]).decision == "allow"


def test_deny_beats_allow_whatever_the_order():
    v = _verdict()
    deny = Rule(("npm",), "deny", source="flag --deny")
    for rules in ([ALLOW_NPM, deny], [deny, ALLOW_NPM]):
        out = apply_rules(v, rules)
        assert out.decision == "deny"
        assert [r.code for r in out.reasons] == [RULE_DENY]
        assert out.matched_rules == (deny.label(),)


def test_ask_rule_beats_allow_and_does_not_lift():
    v = _verdict(Reason(EXEC_FLAG, "x", "ask", sub=0))
    out = apply_rules(v, [ALLOW_NPM, Rule(("npm", "run"), "ask")])
    assert out.decision == "ask"
    assert {r.code for r in out.reasons} == {EXEC_FLAG, RULE_ASK}


def test_deny_rule_on_an_allowed_command():
    v = _verdict(argvs=(("ls",), ("git", "push", "-f")))
    out = apply_rules(
        v, [Rule(("git", "push", "--force"), "deny"), Rule(("git", "push", "-f"), "deny")]
    )
    assert out.decision == "deny"
    assert {r.sub for r in out.reasons} == {1}


def test_lift_false_applies_only_deny_and_ask():
    v = _verdict(Reason(PROGRAM_ASK, "runs tests", "ask", sub=0))
    assert apply_rules(v, [ALLOW_NPM], lift=False).decision == "ask"


def test_tool_star_rules_reach_the_shell_as_a_whole():
    out = apply_rules(_verdict(), [Rule((), "ask", tool="*")])
    assert out.decision == "ask" and out.reasons[0].sub is None
    assert (
        apply_rules(
            _verdict(Reason(PROGRAM_ASK, "x", "ask", sub=0)), [Rule((), "allow", tool="*")]
        ).decision
        == "ask"
    )
