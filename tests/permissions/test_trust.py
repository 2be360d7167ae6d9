"""The project trust store: per real path, per file digest, atomic, keeps other entries."""

from __future__ import annotations

import json
import os

import pytest

from friday.permissions.rules import PolicyError
from friday.permissions.trust import STORE_NAME, TrustStore, file_digest


def test_store_location_from_env(tmp_path):
    assert TrustStore.from_env({"XDG_STATE_HOME": str(tmp_path / "st")}).path == (
        tmp_path / "st" / "friday" / STORE_NAME
    )
    home = TrustStore.from_env({"HOME": str(tmp_path), "XDG_STATE_HOME": "relative"})
    assert home.path == tmp_path / ".local" / "state" / "friday" / STORE_NAME
    assert TrustStore.from_env({}).path is None


def test_trust_is_per_project_and_per_digest(tmp_path):
    store = TrustStore(tmp_path / "state" / STORE_NAME)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert not store.is_trusted(a, "d1")
    store.trust(a, "d1")
    assert store.is_trusted(a, "d1")
    assert not store.is_trusted(a, "d2")  # the file changed: ask again
    assert not store.is_trusted(b, "d1")
    store.trust(b, "d9")
    assert store.is_trusted(a, "d1") and store.is_trusted(b, "d9")  # other entries kept
    store.trust(a, "d2")
    assert store.is_trusted(a, "d2") and not store.is_trusted(a, "d1")
    data = json.loads(store.path.read_text())
    assert data["version"] == 1 and set(data["projects"]) == {str(a), str(b)}
    names = (STORE_NAME, STORE_NAME + ".lock")  # no temporary file is left behind
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name not in names]
    assert leftovers == []


def test_trust_follows_the_real_path(tmp_path):
    store = TrustStore(tmp_path / STORE_NAME)
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    os.symlink(real, link)
    store.trust(link, "d")
    assert store.is_trusted(real, "d")


def test_a_damaged_store_trusts_nothing(tmp_path):
    path = tmp_path / STORE_NAME
    path.write_text("{not json")
    store = TrustStore(path)
    assert not store.is_trusted(tmp_path, "d")
    store.trust(tmp_path, "d")  # and is repaired by the next answer
    assert store.is_trusted(tmp_path, "d")


def test_no_store_trusts_nothing_and_cannot_remember(tmp_path):
    store = TrustStore(None)
    assert not store.is_trusted(tmp_path, "d")
    with pytest.raises(PolicyError, match="HOME"):
        store.trust(tmp_path, "d")


def test_file_digest_changes_with_content(tmp_path):
    f = tmp_path / "policy.toml"
    f.write_text("# a\n")
    first = file_digest(f)
    f.write_text("# b\n")
    assert file_digest(f) != first and len(first) == 64


def test_concurrent_sessions_never_lose_each_others_trust(tmp_path):
    import subprocess
    import sys

    store = tmp_path / "state" / STORE_NAME
    script = (
        "import sys; from pathlib import Path\n"
        "from friday.permissions.trust import TrustStore\n"
        "s = TrustStore(Path(sys.argv[1]))\n"
        "for i in range(25): s.trust(Path(sys.argv[2] + str(i)), 'd')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(store), str(tmp_path / f"p{n}-")])
        for n in range(6)
    ]
    assert [p.wait() for p in procs] == [0] * 6
    projects = json.loads(store.read_text())["projects"]
    assert len(projects) == 6 * 25


def test_atomic_write_never_follows_a_planted_temp_link(tmp_path):
    from friday.permissions.trust import write_atomic

    victim = tmp_path / "victim"
    victim.write_text("precious")
    folder = tmp_path / "repo" / ".friday"
    folder.mkdir(parents=True)
    for name in (f".policy.toml.{os.getpid()}.tmp", ".policy.toml.tmp"):
        (folder / name).symlink_to(victim)
    write_atomic(folder / "policy.toml", b"x = 1\n")
    assert victim.read_text() == "precious"
    assert (folder / "policy.toml").read_bytes() == b"x = 1\n"


def test_the_store_is_private_and_keeps_a_files_mode(tmp_path):
    from friday.permissions.trust import write_atomic

    store = TrustStore(tmp_path / "state" / STORE_NAME)
    store.trust(tmp_path, "d")
    assert store.path.stat().st_mode & 0o777 == 0o600
    kept = tmp_path / "kept"
    kept.write_text("a")
    kept.chmod(0o640)
    write_atomic(kept, b"b")
    assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == "b"
