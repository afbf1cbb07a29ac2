"""The fork server the hostile corpora run on (tests/fork_server.py) gives what a real
``python -m costmodel`` process gives: the same exit status, the same stderr and stdout
(measured times aside), the CPU-time limit killing a runaway command the same way, and
costmodel imported in each child, not before the fork."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import hostile_cases, hostile_paths
from tests import test_hostile, test_hostile_paths
from tests.fork_server import servers, spawn

pytestmark = pytest.mark.slow  # about 40 real processes

#: the first two cases of each module of the paths corpus, its successes among them
SAMPLE = [case for module in sorted({c.id.split("-")[0] for c in hostile_paths.ALL_CASES})
          for case in [c for c in hostile_paths.ALL_CASES if c.id.split("-")[0] == module][:2]]
SAMPLE += [c for c in hostile_paths.ALL_CASES if c.expect == "ok"][:6]
LANGUAGE_SAMPLE = hostile_cases.CASES[:6]


def _same_words(text: bytes, base: Path) -> str:
    """The output with the case folder's place and measured numbers masked."""
    return re.sub(r"\d+(\.\d+)?", "#", text.decode("utf-8", "replace").replace(str(base), "{base}"))


def _both(run, cases, tmp_path):
    ended = {}
    for how in ("fork", "spawn"):
        base = tmp_path / how
        base.mkdir()
        with servers(2) as fork, ThreadPoolExecutor(max_workers=2) as pool:
            launch = fork if how == "fork" else spawn
            ended[how] = (base, list(pool.map(lambda case: run(case, base, launch), cases)))
    return ended


def test_the_paths_corpus_ends_alike_forked_and_spawned(tmp_path):
    ended = _both(test_hostile_paths.run_case, SAMPLE, tmp_path)
    (fork_base, forked), (spawn_base, spawned) = ended["fork"], ended["spawn"]
    for case, a, b in zip(SAMPLE, forked, spawned):
        assert a["code"] == b["code"], (case.id, a["code"], b["code"])
        assert _same_words(a["stderr"], fork_base) == _same_words(b["stderr"], spawn_base), case.id
        assert _same_words(a["stdout"], fork_base) == _same_words(b["stdout"], spawn_base), case.id
    assert sum(r["cpu"] for r in forked) < sum(r["cpu"] for r in spawned) / 2  # the point


def test_the_language_corpus_ends_alike_forked_and_spawned(tmp_path):
    ended = _both(test_hostile.run_case, LANGUAGE_SAMPLE, tmp_path)
    (fork_base, forked), (spawn_base, spawned) = ended["fork"], ended["spawn"]
    for a, b in zip(forked, spawned):
        assert a[1] == b[1] == 2, a[0]
        assert a[3].replace(str(fork_base), "") == b[3].replace(str(spawn_base), ""), a[0]


def test_limits_and_a_fresh_costmodel_hold_in_the_child(tmp_path):
    (tmp_path / "spin.py").write_text("def build():\n    while True:\n        pass\n")
    (tmp_path / "grab.py").write_text("def build():\n    return bytearray(8 * 2**30)\n")
    (tmp_path / "where.py").write_text(
        "import sys\n\ndef build():\n    raise SystemExit(f'{len(sys.argv)} '"
        "f'{sys.path[0]} {sys.modules[\"costmodel\"].__file__}')\n")
    # (command line, CPU seconds): the spin is killed at its limit, the grab refused its memory
    runs = [(["compare", f"{tmp_path}/spin.py:build"], 4),
            (["compare", f"{tmp_path}/grab.py:build"], 30),
            (["compare", f"{tmp_path}/where.py:build"], 30)]
    with servers(1) as fork:
        for args, cpu in runs:
            out = []
            for launch in (fork, spawn):
                ended = launch(args, tmp_path, {"PYTHONPATH": str(test_hostile.ROOT),
                                                "PATH": "/usr/bin:/bin"},
                               tmp_path / "out", tmp_path / "err", cpu, 6 * 1024 ** 3, 60)
                out.append((ended["code"], (tmp_path / "err").read_text()))
            assert out[0] == out[1], (args, out)
    assert out[0][1].split()[-2:] == [str(tmp_path), str(test_hostile.ROOT /
                                                         "costmodel" / "__init__.py")]
