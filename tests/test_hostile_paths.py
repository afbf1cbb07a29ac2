"""Issue 16's promise, checked through the real command line on every input path besides the
language (tests/hostile_paths/): no file read beyond what was asked, no escape sequence from
input on stdout or stderr, no existing file damaged by a failed write, no hang, no blowup past
1 GB, no traceback; bad input gets exit 2 and one ``costmodel: error:`` line.

Each case runs ``python -m costmodel ...`` as its own process, under a CPU-time cap and an
address-space cap, two at a time; its peak resident memory comes from wait4. The processes
are forks of a server that has imported the libraries (tests/fork_server.py: the same
process but for their import, checked against real ``python -m costmodel`` processes by
tests/test_fork_server.py), which takes the corpus from about nine minutes of CPU to a few.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fork_server import servers, spawn
from tests.hostile_paths import ALL_CASES, SECRET

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
#: CPU seconds after which a case is killed, and that a case may take (the libraries are
#: imported before the fork: these are the command's own seconds).
CPU_SECONDS = 20
CASE_CPU_SECONDS = 12
WALL_SECONDS = 90
#: Address space a case may map (torch maps far more than it touches), and the resident
#: memory it may really use: "no blowup past 1 GB".
ADDRESS_SPACE_BYTES = 6 * 1024 ** 3
MAX_RSS_BYTES = 1024 ** 3
#: Terminal control characters that must never reach stdout or stderr: C0 but newline and
#: tab, DEL, C1 (the 8-bit CSI 0x9b among them) and the bidirectional overrides.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _fill(text: str, folder: Path) -> str:
    return text.replace("{dir}", str(folder)).replace("{marker}", str(folder / "MARKER")) \
        .replace("{root}", str(ROOT))


def run_case(case, base: Path, launch=spawn) -> dict:
    """Run one case with ``launch`` (tests/fork_server.py: a real process, or a fork of
    the server); what it did."""
    folder = base / case.id
    folder.mkdir()
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes)
                         else _fill(content, folder).encode("utf-8"))
    if case.secret:  # what a crafted file might try to read from the working folder or home
        for name in ("secret.txt", ".ssh/id_rsa", "home/.ssh/id_rsa"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(SECRET + b"\n" + SECRET * 64)
    if case.setup is not None:
        case.setup(folder)
    before = {name: (folder / name).read_bytes() for name in case.protect}
    args = [_fill(a, folder) for a in case.argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100",
           "HOME": str(folder / "home"), **{k: _fill(v, folder) for k, v in case.env.items()}}
    out, err = base / f"{case.id}.stdout", base / f"{case.id}.stderr"
    ended = launch(args, folder if case.cwd == "dir" else ROOT, env, out, err, CPU_SECONDS,
                   ADDRESS_SPACE_BYTES, WALL_SECONDS)
    if ended["code"] is None:
        return {**ended, "stdout": b"", "stderr": b"timed out", "folder": folder,
                "before": before}
    return {**ended, "stdout": out.read_bytes(), "stderr": err.read_bytes(), "folder": folder,
            "before": before}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile_paths")
    with servers(2) as launch, ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda case: run_case(case, base, launch), ALL_CASES))
    return {case.id: result for case, result in zip(ALL_CASES, results)}


def test_the_corpus_is_large_and_named_uniquely():
    ids = [case.id for case in ALL_CASES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert len(ids) >= 300


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_hostile_path(outcomes, case):
    result = outcomes[case.id]
    stdout = result["stdout"].decode("utf-8", "replace")
    stderr = result["stderr"].decode("utf-8", "replace")
    folder = result["folder"]
    assert result["code"] is not None, f"{case.id}: hung (over {WALL_SECONDS} s)"
    assert not (folder / "MARKER").exists(), f"{case.id}: code ran"
    assert "Traceback" not in stderr, stderr[-3000:]
    assert not CONTROL.search(stdout), f"{case.id}: control character on stdout: " \
                                       f"{CONTROL.search(stdout).group()!r}"
    assert not CONTROL.search(stderr), f"{case.id}: control character on stderr: {stderr[-500:]!r}"
    assert SECRET not in result["stdout"] + result["stderr"], f"{case.id}: leaked a file's bytes"
    assert SECRET.decode() not in stdout + stderr
    for name, content in result["before"].items():
        assert (folder / name).read_bytes() == content, f"{case.id}: {name} was damaged"
    assert result["rss"] < MAX_RSS_BYTES, f"{case.id}: {result['rss'] / 2**20:.0f} MiB resident"
    assert result["cpu"] < CASE_CPU_SECONDS, f"{case.id}: {result['cpu']:.1f} s of CPU"
    if case.expect == "ok":
        assert result["code"] == 0, f"{case.id}: exit {result['code']}\n{stderr[-2000:]}"
        return
    assert result["code"] == 2, f"{case.id}: exit {result['code']}\n{stderr[-2000:]}"
    lines = stderr.strip().splitlines()
    assert lines and lines[0].startswith("costmodel: error: "), stderr[-2000:]
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("see '")), stderr[-2000:]
    assert len(lines[0]) <= 420, lines[0][:500]
    for words in case.says:
        assert words.lower() in lines[0].lower(), f"{case.id}: {lines[0]!r} does not say {words!r}"
