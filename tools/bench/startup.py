"""`friday --version` start-up time beside bare-interpreter baselines, and the heavy
modules that path imports (there should be none).

    python -m tools.bench.startup [--runs 10]

Target: median <= 0.1 s; no anthropic, openai, textual, bashlex, git or tiktoken.

Two extra lines place the time: `friday --version` run by `python -S` (no site, so no
.pth hooks, with the repo on sys.path) is what Friday itself costs, and one
`-X importtime` run shows what the interpreter's `site` step spends before Friday runs
(an editable install's finder hook, other packages' .pth files).
"""

from __future__ import annotations

import argparse
import json
import site
import subprocess
import sys
from pathlib import Path

from tools.bench.common import (
    REPO,
    Stats,
    check,
    clean_env,
    friday_command,
    import_times,
    load_note,
    ms,
    noise_note,
    rotated,
    run_child,
    runs_option,
    scratch,
    script_args,
    shim_note,
    table,
    verdict,
)

TARGET_S = 0.1
HEAVY = ("anthropic", "openai", "textual", "bashlex", "git", "tiktoken")
# Not part of the target, shown so a regression is easy to place.
WATCH = ("httpx", "httpx2", "pydantic", "rich", "prompt_toolkit", "asyncio")
MAIN = "friday --version"

PROBE = """\
import sys
import friday.cli
try:
    friday.cli.main(['--version'])
except SystemExit:
    pass
import json
print('MODULES=' + json.dumps(sorted(sys.modules)))
"""
NO_SITE = (
    f"import sys; sys.path.insert(0, {str(REPO)!r}); sys.argv[0] = 'friday'; "
    "from friday.cli import main; sys.exit(main(['--version']))"
)


def commands(friday: list[str]) -> dict[str, list[str]]:
    return {
        MAIN: [*friday, "--version"],
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -S -c pass": [sys.executable, "-S", "-c", "pass"],
        "friday --version under python -S": [sys.executable, "-S", "-c", NO_SITE],
    }


def measure(
    cmds: dict[str, list[str]], runs: int, env: dict[str, str], cwd: Path
) -> tuple[dict[str, Stats], dict[str, Stats]]:
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for i in range(runs + 1):
        for name in rotated(list(cmds), i):
            run = check(run_child(cmds[name], env, cwd), name)
            if i:  # the first round warms the page cache
                walls[name].append(run.wall)
                cpus[name].append(run.cpu)
    wall = {name: Stats.of(v) for name, v in walls.items()}
    cpu = {name: Stats.of(v) for name, v in cpus.items()}
    return wall, cpu


def imported_modules(env: dict[str, str], cwd: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=cwd, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"bench: the module probe failed:\n{out.stderr}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


def print_times(stats: dict[str, Stats], cpu: dict[str, Stats]) -> None:
    rows = []
    for name, s in stats.items():
        target, result = "", ""
        if name == MAIN:
            target, result = f"<= {ms(TARGET_S)}", verdict(s.median, TARGET_S)
        rows.append(
            [name, ms(s.min), ms(s.median), ms(s.max), target, result, ms(cpu[name].median)]
        )
    header = ["command", "min", "median", "max", "target", "", "CPU median"]
    print(table(header, rows))
    base = stats["python -c pass"].median
    print(f"{MAIN} minus python -c pass (medians): {ms(stats[MAIN].median - base)}")
    if note := noise_note(stats):
        print(note)


def print_modules(modules: set[str]) -> None:
    top = {name.split(".")[0] for name in modules}
    heavy = [m for m in HEAVY if m in top]
    friday_mods = sum(m.startswith("friday") for m in modules)
    print("modules imported by friday.cli.main(['--version']):")
    print(f"  {len(modules)} in sys.modules, {friday_mods} of them friday.*")
    print(f"  heavy (must be none): {', '.join(heavy) or 'none'}  {'MISS' if heavy else 'PASS'}")
    print(f"  also watched, loaded: {', '.join(m for m in WATCH if m in top) or 'none'}")


def print_import_times(times: list[tuple[str, int]]) -> None:
    """The top-level imports of one run that took 2 ms or more (site's children indented),
    and the .pth files that make `site` import things before Friday runs."""
    rows = [[name, f"{us / 1000:.1f} ms"] for name, us in times]
    print(f"where {MAIN} start-up goes (one -X importtime run, cumulative, >= 2 ms):")
    print(table(["import", "time"], rows))
    pth = sorted(p.name for d in site.getsitepackages() for p in Path(d).glob("*.pth"))
    print(f".pth files run by site: {', '.join(pth) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.startup")
    runs_option(parser, 10)
    args = parser.parse_args(argv)
    friday, label = friday_command()
    print(f"== startup: wall time, {args.runs} interleaved runs each (after 1 warm-up round)")
    print(f"measured: {label}")
    print(shim_note())
    print(load_note())
    with scratch() as root:
        env, cwd = clean_env(root / "home"), root / "work"
        cmds = commands(friday)
        stats, cpu = measure(cmds, args.runs, env, cwd)
        modules = imported_modules(env, cwd)
        times = import_times([*script_args(friday), "--version"], env, cwd)
    print_times(stats, cpu)
    print()
    print_modules(modules)
    print()
    print_import_times(times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
