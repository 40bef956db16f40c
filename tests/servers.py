"""Real servers on loopback for tests: the hub itself, run by uvicorn in a thread."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from hub.app import create_app
from hub.settings import Settings
from hub.state import HubState


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HubServer:
    """Starts the hub app under uvicorn on 127.0.0.1; stops it on exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HubServer:
        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the hub did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(20)

    @property
    def state(self) -> HubState:
        state: HubState = self.app.state.hub
        return state

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


class HubProcess:
    """``crossdock serve`` as a real child process, for crash and restart tests."""

    def __init__(self, env: dict[str, str], cwd: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **env,
            "CROSSDOCK_PORT": str(self.port),
            "CROSSDOCK_HOST": "127.0.0.1",
        }
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(cwd) / f"hub-{self.port}.log"

    def start(self, timeout: float = 30) -> HubProcess:
        executable = Path(sys.executable).with_name("crossdock")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(executable), "serve"], cwd=self.cwd, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub did not become healthy:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what was committed must survive."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
