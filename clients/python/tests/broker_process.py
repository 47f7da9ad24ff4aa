"""Starts a real Sluice broker for tests: the node process from the
repository root on 127.0.0.1, an OS-chosen port and a fresh data directory."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

START_TIMEOUT = 60.0


def repo_root() -> Path:
    if root := os.environ.get("SLUICE_REPO_ROOT"):
        return Path(root)
    for parent in Path(__file__).resolve().parents:
        if (parent / "package.json").exists() and (parent / "proto" / "sluice").is_dir():
            return parent
    raise RuntimeError("repository root not found (set SLUICE_REPO_ROOT)")


class BrokerProcess:
    """A running broker. ``address`` is host:port; ``stop()`` ends it,
    ``restart()`` stops and starts it on the same port and data.
    ``args`` are more flags, e.g. ``["--tls-cert", path, ...]``."""

    def __init__(self, args: list[str] | None = None) -> None:
        self._data_dir = tempfile.mkdtemp(prefix="sluice-py-test-")
        self._args = args or []
        self._log: list[str] = []
        self._start("0")

    def _start(self, port: str) -> None:
        self._proc = subprocess.Popen(
            ["node", "--import", "tsx", "src/main.ts", "--host", "127.0.0.1", "--port", port,
             "--data-dir", self._data_dir, *self._args],
            cwd=repo_root(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        ports: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        threading.Thread(target=self._scan, args=(ports,), daemon=True).start()
        try:
            bound = ports.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"no listening line within {START_TIMEOUT} s:\n{self.log}") from None
        if bound is None:
            self.stop()
            raise RuntimeError(f"broker exited before listening:\n{self.log}")
        self.address = f"127.0.0.1:{bound}"

    def restart(self) -> None:
        """Stops the broker (SIGTERM, as a deployment would) and starts it
        again on the same port and data directory; returns once it listens."""
        port = self.address.rsplit(":", 1)[1]
        self._terminate()
        self._start(port)

    def _scan(self, ports: queue.SimpleQueue[int | None]) -> None:
        assert self._proc.stdout is not None
        announced = False
        for line in self._proc.stdout:
            self._log.append(line)
            if announced or '"sluice listening"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "sluice listening" and isinstance(entry.get("port"), int):
                ports.put(entry["port"])
                announced = True
        if not announced:
            ports.put(None)

    @property
    def log(self) -> str:
        return "".join(self._log)

    def alive(self) -> bool:
        return self._proc.poll() is None

    def stop(self) -> None:
        self._terminate()
        shutil.rmtree(self._data_dir, ignore_errors=True)

    def _terminate(self) -> None:
        if self.alive():
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)


def generate_certs(directory: str) -> dict:
    """Fresh test certificates in ``directory``, made by the repository's
    test helper (test/helpers/certs.ts); returns its JSON description."""
    out = subprocess.run(
        ["node", "--import", "tsx", "test/helpers/certs.ts", directory],
        cwd=repo_root(), check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)
