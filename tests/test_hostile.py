"""Issue 8's promise, checked through the real command line: hostile files and command lines
(tests/hostile_cases.py) never run code, never hang or eat memory, and each gets exactly one
``costmodel: error:`` line (a hint line may follow) and exit status 2, with no traceback.

Every case runs ``python -m costmodel ...`` as its own process under a CPU-time cap and an
address-space cap, two at a time, forked from a server that has imported the libraries
(tests/fork_server.py), so that a case costs its command's time, not a second of imports.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fork_server import servers, spawn
from tests.hostile_cases import CASES

pytestmark = pytest.mark.slow  # the hostile corpus, each case a capped subprocess

ROOT = Path(__file__).resolve().parents[1]
#: CPU seconds after which a case is killed, and the CPU time a refusal may take (the
#: libraries are imported before the fork).
CPU_SECONDS = 8
REFUSAL_CPU_SECONDS = 4
#: Wall-clock seconds before a case counts as hung (generous: the machine is shared).
WALL_SECONDS = 60
#: Address space of a case: sympy and numpy start in ~0.6 GB of it.
MEMORY_BYTES = 2 * 1024 ** 3


def _fill(text: str, folder: Path) -> str:
    return text.replace("{dir}", str(folder)).replace("{marker}", str(folder / "MARKER"))


def run_case(case, base: Path, launch=spawn):
    case_id, files, argv = case
    folder = base / case_id
    folder.mkdir()
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(_fill(content, folder).encode("utf-8"))
    args = [_fill(a, folder) for a in argv]
    out, err = folder / ".stdout", folder / ".stderr"
    ended = launch(args, ROOT, dict(os.environ), out, err, CPU_SECONDS, MEMORY_BYTES,
                   WALL_SECONDS)
    if ended["code"] is None:
        return case_id, None, "", "timed out", folder, None
    read = lambda path: path.read_bytes().decode("utf-8", "replace")  # noqa: E731
    return case_id, ended["code"], read(out), read(err), folder, ended["cpu"]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    with servers(2) as launch, ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda case: run_case(case, base, launch), CASES))
    return {case_id: rest for case_id, *rest in results}


def test_the_corpus_is_large_and_named_uniquely():
    ids = [case[0] for case in CASES]
    assert len(ids) >= 80 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case_id", [case[0] for case in CASES])
def test_hostile_input_gets_one_clear_line(outcomes, case_id):
    code, stdout, stderr, folder, cpu = outcomes[case_id]
    assert not (folder / "MARKER").exists(), f"{case_id}: code ran"
    assert code == 2, f"{case_id}: exit {code}\n{stderr[-2000:]}"
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = stderr.strip().splitlines()
    assert lines and lines[0].startswith("costmodel: error: "), stderr[-2000:]
    assert len(lines) <= 2 and not lines[-1].startswith("costmodel: error:") or len(lines) == 1
    assert len(lines[0]) < 600, lines[0]  # an excerpt, not the whole hostile text
    assert cpu < REFUSAL_CPU_SECONDS, f"{case_id}: {cpu:.1f} s of CPU"


@pytest.mark.parametrize("argv", [["derive", "{dir}/f.cm", "--format", "json"],
                                  ["derive", "{dir}/f.cm", "--format", "latex"],
                                  ["summary", "{dir}/f.cm", "--format", "json"]])
def test_a_payload_that_is_only_a_name_is_printed_never_run(tmp_path, argv):
    """A choice value is text: printing it (JSON config, LaTeX) never parses it."""
    payload = "open('{marker}','w')"
    files = {"f.cm": f"model t\nknob head {payload} choice {payload}|b\ninput 3 32 32\n"
                     "conv 8 k=3\ngap\nfc 10\n"}
    case_id, code, stdout, stderr, folder, cpu = run_case(("benign", files, argv), tmp_path)
    assert code == 0, stderr
    assert not (folder / "MARKER").exists()
    assert "MARKER" in stdout or argv[-1] == "latex"
