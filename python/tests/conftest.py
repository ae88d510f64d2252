"""Fixtures: a real pycached in a temporary directory, and clients of it.

The daemon is the build's (PYCACHE_PYCACHED, set by python/run-tests.sh),
started with --foreground on a store in a fresh directory on /dev/shm (else
the temporary directory), waited for with a deadline, stopped with SIGTERM
(its exit status checked) and removed.  It dies with the test process
(PR_SET_PDEATHSIG) if that is killed.  Every wait polls a condition; none
sleeps as a way to synchronise.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Callable, Iterator, List, Optional

import pytest

import pycache

PR_SET_PDEATHSIG = 1
START_TIMEOUT = 30.0  # generous: a loaded two-core machine
STOP_TIMEOUT = 30.0


def tmpfs() -> Optional[str]:
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def pycached_path() -> str:
    path = os.environ.get("PYCACHE_PYCACHED")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("PYCACHE_PYCACHED must name the pycached to test (python/run-tests.sh sets it)")
    return path


def _die_with_parent() -> None:
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll cond every few milliseconds until it holds; fail after timeout."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


class Daemon:
    """A pycached of its own in a temporary directory."""

    def __init__(self, *options: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="pycache-pytest-", dir=tmpfs())
        self.log = os.path.join(self.dir, "daemon.log")
        self.out = os.path.join(self.dir, "daemon.out")
        self.options: List[str] = list(options)
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "Daemon":
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen(
                [pycached_path(), "--foreground", "-d", self.dir, "--log-file", self.log,
                 "--sync", "none", *self.options],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"pycached exited with {self.proc.returncode} while "
                                     f"starting:\n{self.logs()}")
            try:
                pycache.Client(self.dir, ring_only=True).close()
                return True
            except (pycache.errors.NotServedError, pycache.errors.StoreNotFoundError):
                return False

        wait_for(ready, START_TIMEOUT, f"pycached to serve {self.dir}")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop it; its exit status (-9 when it had to be killed)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return 0
        proc.send_signal(sig)
        try:
            return proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -9

    def logs(self) -> str:
        text = []
        for path in (self.log, self.out):
            try:
                with open(path, errors="replace") as f:
                    text.append(f"---- {path}\n{f.read()}")
            except OSError:
                pass
        return "\n".join(text)

    def remove(self) -> None:
        if self.proc is not None:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def daemon() -> Iterator[Daemon]:
    """One pycached for the whole session (tests that restart one make their own)."""
    d = Daemon().start()
    try:
        yield d
    finally:
        status = d.stop()
        logs = d.logs()
        d.remove()
        assert status == 0, f"pycached exited with {status}:\n{logs}"


@pytest.fixture
def store(daemon: Daemon) -> Iterator[str]:
    """The session daemon's directory, emptied for this test."""
    with pycache.Client(daemon.dir) as c:
        c.flush()
    yield daemon.dir


@pytest.fixture
def client(store: str) -> Iterator[pycache.Client]:
    """A Client of the session daemon (store emptied)."""
    c = pycache.Client(store)
    yield c
    c.close()


@pytest.fixture
def own_daemon() -> Iterator[Callable[..., Daemon]]:
    """Start daemons of the test's own (with options); stopped and removed after it."""
    made: List[Daemon] = []

    def start(*options: str) -> Daemon:
        d = Daemon(*options).start()
        made.append(d)
        return d

    yield start
    for d in made:
        d.remove()


@pytest.fixture
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pycache.Client]:
    """A Client on an embedded store of its own (no daemon)."""
    d = tempfile.mkdtemp(prefix="pycache-pytest-emb-", dir=tmpfs())
    c = pycache.Client(d, embedded=True, create=True, nosync=True, map_size=64 << 20)
    yield c
    c.close()
    shutil.rmtree(d, ignore_errors=True)
