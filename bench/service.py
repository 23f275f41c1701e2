"""Benchmark: CDS Hooks patient-view latency at a fixed arrival rate on loopback (prints figures, asserts nothing).

The server runs in its own process (uvicorn, one worker) with JWT checking on: every request carries a
fresh ES384-signed token (minted before the run, so the load generator's CPU is not in the measurement).
The load generator is open-loop: request i is sent at start + i/rate whatever happened to earlier ones,
and latency is measured from that scheduled time, so a stall is not hidden (no coordinated omission).

    .venv/bin/python bench/service.py [--rate 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_service_support import ISSUER, Keys, load_bundle, patient_view, prefetch_from  # noqa: E402

SERVER = """
import sys, uvicorn
from rectoplan.service.app import Settings, create_app
app = create_app(Settings(issuers={sys.argv[1]: sys.argv[2]}))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(url: str, tokens: list[str], body: bytes, rate: float) -> tuple[list[float], dict[str, int]]:
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def one(i: int, due: float) -> None:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            headers = {"Authorization": f"Bearer {tokens[i]}", "Content-Type": "application/json"}
            try:
                response = await client.post(url, content=body, headers=headers)
                ok = response.status_code == 200 and response.json()["cards"]
                if not ok:
                    errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
            except Exception as exc:  # count every failure kind; a benchmark must not stop on one
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            latencies.append(time.perf_counter() - due)

        start = time.perf_counter() + 0.5
        await asyncio.gather(*(one(i, start + i / rate) for i in range(len(tokens))))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of the measured run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys = Keys(Path(tmp))
        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", SERVER, ISSUER, str(keys.jwks_path), str(port)], cwd=ROOT)
        try:
            url = f"http://127.0.0.1:{port}/cds-services/rectoplan-options"
            import httpx

            for _ in range(200):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            body_obj: dict[str, Any] = patient_view(
                "ines-rectal-liver", prefetch_from(load_bundle("rectal_stage4_kras_g12c"))
            )
            body_obj["hookInstance"] = str(uuid.uuid4())
            body = json.dumps(body_obj).encode()
            warm = [keys.token(url) for _ in range(200)]
            asyncio.run(run(url, warm, body, 100.0))  # warm-up, not measured
            total = int(args.rate * args.seconds)
            tokens = [keys.token(url) for _ in range(total)]
            began = time.perf_counter()
            latencies, errors = asyncio.run(run(url, tokens, body, args.rate))
            elapsed = time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(10)
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p / 100 * len(ms)))]

    print(f"CDS Hooks patient-view on loopback, JWT (ES384) verified per request, body {len(body)} bytes")
    print(f"offered {args.rate:.0f} req/s for {args.seconds:.0f} s: {len(ms)} requests in {elapsed:.1f} s")
    print(
        f"latency ms: p50 {pct(50):.1f}  p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {ms[-1]:.1f}  "
        f"mean {statistics.fmean(ms):.1f}"
    )
    print(f"errors: {sum(errors.values())} {errors if errors else ''}".rstrip())
    print(f"target p99 < 50 ms with zero errors: {'met' if pct(99) < 50 and not errors else 'NOT met'}")


if __name__ == "__main__":
    main()
