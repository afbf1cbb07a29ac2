"""Run ``python -m costmodel ARGS`` as its own process many times, without paying for the
libraries' import each time: a fork server for the hostile corpora (tests/test_hostile.py,
tests/test_hostile_paths.py), which run about 700 command lines.

The server is a Python process that imports the third-party libraries costmodel uses
(sympy, numpy, pandas, typer, rich, onnx, torch, matplotlib: about 5 s of CPU, most of a
case's cost when each case imports them itself) and then, for each request, forks. The child
is a new process as ``python -m costmodel`` makes one: its own CPU-time and address-space
limits, working folder, environment, stdin from /dev/null, stdout and stderr into files,
``sys.path[0]`` the working folder, and costmodel itself imported afresh (none of it is
imported before the fork), its exit status and a traceback as Python gives them. The server
reaps it with wait4 (exit status, CPU time, peak resident memory, which counts the pages
shared with the server: an upper bound) and kills it when its wall time runs out.

tests/test_fork_server.py runs a sample of the corpora both ways, through this server and as
real ``python -m costmodel`` processes, and checks that they end alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parents[1]
#: what the server imports before it forks (those that are not installed are skipped)
PRELOAD = ("sympy", "numpy", "pandas", "click", "typer", "rich", "rich.console", "onnx",
           "onnx.shape_inference", "torch", "torch.fx", "matplotlib", "matplotlib.pyplot")


class Server:
    """One fork server process; requests are answered one at a time."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.fork_server"], cwd=ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the fork server did not start")

    def run(self, args: list[str], cwd: Path, env: dict[str, str], stdout: Path, stderr: Path,
            cpu_seconds: int, address_space: int, wall_seconds: float) -> dict:
        """Run ``python -m costmodel *args``; {code (None if killed at its wall time), cpu
        (seconds), rss (bytes)}."""
        request = dict(args=list(args), cwd=str(cwd), env=dict(env), stdout=str(stdout),
                       stderr=str(stderr), cpu=cpu_seconds, address_space=address_space,
                       wall=wall_seconds)
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the fork server stopped")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@contextmanager
def servers(count: int = 2):
    """``count`` servers, each lent to one caller at a time: ``with servers() as run:
    run(...)`` from as many threads as there are servers."""
    pool: Queue = Queue()
    started = [Server() for _ in range(count)]
    for server in started:
        pool.put(server)
    def run(*args, **kwargs) -> dict:
        server = pool.get()
        try:
            return server.run(*args, **kwargs)
        finally:
            pool.put(server)
    try:
        yield run
    finally:
        for server in started:
            server.close()


def spawn(args: list[str], cwd: Path, env: dict[str, str], stdout: Path, stderr: Path,
          cpu_seconds: int, address_space: int, wall_seconds: float) -> dict:
    """What :meth:`Server.run` does, as a real ``python -m costmodel`` process (its limits set
    before exec): the reference the server is checked against."""
    import resource
    import time

    def caps() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "costmodel", *args], cwd=cwd, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   preexec_fn=caps)
    deadline = time.monotonic() + wall_seconds
    while True:  # reaped with wait4, which also reports the child's CPU time and memory
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return {"code": os.waitstatus_to_exitcode(status),
                    "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss * 1024}
        if time.monotonic() > deadline:
            process.kill()
            os.wait4(process.pid, 0)
            return {"code": None, "cpu": None, "rss": 0}
        time.sleep(0.02)


# --- the server side (python -m tests.fork_server) ---------------------------------------------

def _child(request: dict) -> None:
    """In the forked child: become ``python -m costmodel ARGS`` and exit as it would."""
    import io
    import resource
    import runpy
    import traceback

    code = 1
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (request["cpu"], request["cpu"]))
        resource.setrlimit(resource.RLIMIT_AS, (request["address_space"],) * 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        # the streams Python makes at start-up (UTF-8 here: the C.UTF-8 locale or UTF-8 mode)
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False),
                                                     encoding="utf-8")
        sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace",
                                           closefd=False, buffering=1)
        sys.argv = ["-m", *request["args"]]
        sys.path[0] = os.getcwd()  # as -m puts the working folder first
        try:
            runpy.run_module("costmodel", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:  # what the interpreter prints for an uncaught exception
            traceback.print_exc()
            code = 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # an unwritable stdout: Python exits 120 when it cannot flush
                code = code or 120
    finally:
        os._exit(code)


def _serve() -> None:
    import importlib
    import signal
    import time

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    requests, replies = sys.stdin, sys.stdout
    replies.write("ready\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        deadline = time.monotonic() + request["wall"]
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                reply = {"code": os.waitstatus_to_exitcode(status),
                         "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss * 1024}
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.wait4(pid, 0)
                reply = {"code": None, "cpu": None, "rss": 0}
                break
            time.sleep(0.01)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    _serve()
