"""`rectoplan serve --workers N`: several processes, one JWT replay cache.

A token replayed to another worker process must be refused like one replayed to the same process, so the
workers share a SQLite replay cache; checked here across real processes, and end to end over HTTP against
`rectoplan serve --workers 2` (each request on a new connection, so both workers answer).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_service_support import ISSUER, Keys, free_port

httpx = pytest.importorskip("httpx")
jwt = pytest.importorskip("jwt")

from rectoplan.service.security import SharedReplayCache  # noqa: E402

CLAIM_IN_ANOTHER_PROCESS = """
import sys
from rectoplan.service.security import SharedReplayCache
print(SharedReplayCache(sys.argv[1]).claim(sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
"""


def _claim_elsewhere(path: Path, key: str, until: float, now: float) -> bool:
    out = subprocess.run(
        [sys.executable, "-c", CLAIM_IN_ANOTHER_PROCESS, str(path), key, str(until), str(now)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"True": True, "False": False}[out.stdout.strip()]


def test_a_jti_claimed_in_one_process_is_a_replay_in_another(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite"
    here = SharedReplayCache(str(path))
    now = time.time()
    assert here.claim("iss jti-1", now + 60, now)
    assert not _claim_elsewhere(path, "iss jti-1", now + 60, now), "replayed to another process"
    assert not here.claim("iss jti-1", now + 60, now), "replayed to the same process"
    assert _claim_elsewhere(path, "iss jti-2", now + 60, now), "another token is fine"
    assert not here.claim("iss jti-2", now + 60, now)


def test_an_expired_entry_no_longer_blocks(tmp_path: Path) -> None:
    cache = SharedReplayCache(str(tmp_path / "replay.sqlite"))
    assert cache.claim("k", until=100.0, now=50.0)
    assert not cache.claim("k", until=200.0, now=99.0)
    assert cache.claim("k", until=300.0, now=101.0)  # the token itself has expired by then (exp is checked first)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Keys, Path]]:
    keys = Keys(tmp_path_factory.mktemp("jwks"))
    scratch = tmp_path_factory.mktemp("serve-tmp")  # the server's TMPDIR: where its private replay file goes
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "rectoplan.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        "--jwt-issuer",
        f"{ISSUER}={keys.jwks_path}",
    ]
    server = subprocess.Popen(command, env=dict(os.environ, TMPDIR=str(scratch)), stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve --workers 2 did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.2)
        yield url, keys, scratch
    finally:
        server.terminate()
        server.wait(20)


def test_serve_with_two_workers_refuses_every_replay(two_workers: tuple[str, Keys, Path]) -> None:
    url, keys, scratch = two_workers
    endpoint = url + "/cds-services"
    jtis = []
    for _ in range(12):
        token = keys.token(endpoint)
        jtis.append(jwt.decode(token, options={"verify_signature": False})["jti"])
        headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        assert httpx.get(endpoint, headers=headers).status_code == 200
        for _ in range(3):  # new connections: the other worker answers some of them
            again = httpx.get(endpoint, headers=headers)
            assert again.status_code == 401
            assert "replay" in again.json()["issue"][0]["diagnostics"]
    # the workers claimed the tokens in the one shared file, not each in its own memory
    (replay_file,) = scratch.glob("rectoplan-serve-*/jwt-replay.sqlite")
    with sqlite3.connect(replay_file) as con:
        stored = {key for (key,) in con.execute("SELECT key FROM seen")}
    assert {f"{ISSUER} {jti}" for jti in jtis} <= stored


def test_workers_must_be_a_positive_number() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rectoplan.cli", "serve", "--insecure-dev", "--workers", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--workers" in out.stderr and "at least 1" in out.stderr
