"""Find a teacher server started as its own job: wait for the address file it writes, then for its health.

``slurm/teacher_server.sbatch`` writes ``http://<node>:<port>/v1`` into a file on the shared
filesystem once the server answers; sampling tasks may start before that (or while a requeued
server restarts on another node), so they wait, with a deadline, instead of failing.
"""

from __future__ import annotations

import time
from pathlib import Path


class ServerNotReady(TimeoutError):
    pass


def server_healthy(base_url: str, timeout_s: float = 5.0) -> bool:
    import httpx

    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        return httpx.get(f"{root}/health", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def resolve_base_url(address_file: str, wait_s: float, poll_s: float = 5.0) -> str:
    """The base URL in ``address_file`` once its server is healthy; ``ServerNotReady`` after ``wait_s``."""
    deadline = time.monotonic() + wait_s
    path = Path(address_file)
    while True:
        url = path.read_text().strip() if path.exists() else ""
        if url and server_healthy(url):
            return url
        if time.monotonic() >= deadline:
            state = f"{url} is not healthy" if url else f"{path} does not exist"
            raise ServerNotReady(f"no teacher server after {wait_s:.0f} s: {state} (is slurm/teacher_server.sbatch running?)")
        time.sleep(poll_s)
