"""A throwaway Postgres cluster for tests: Debian's postgresql binaries, ``initdb`` and ``pg_ctl`` on a temporary
folder, a free port on 127.0.0.1, trust authentication; stopped and removed on exit.

``initdb`` refuses to run as root, so as root every Postgres command runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@dataclass(frozen=True)
class PostgresCluster:
    host: str
    port: int
    user: str

    def libpq(self, dbname: str) -> str:
        """A libpq connection string (DuckDB's postgres extension, DuckLake's catalog)."""
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"


def _bin() -> Path:
    for candidate in PG_BIN_CANDIDATES:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("no Postgres server binaries (initdb) found: install Debian's postgresql package")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres(databases: tuple[str, ...] = ()) -> Iterator[PostgresCluster]:
    bin_dir = _bin()
    root = Path(tempfile.mkdtemp(prefix="workforce-pg-"))
    data = root / "data"
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    port = _free_port()
    run = lambda cmd: subprocess.run(_as_postgres(cmd), check=True, capture_output=True, text=True)  # noqa: E731
    run([str(bin_dir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"])
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start"])
    try:
        for name in databases:
            run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, name])
        yield PostgresCluster("127.0.0.1", port, user)
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
