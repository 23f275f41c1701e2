"""docs/service.md stays true: its example files exist and its curl calls get what the page says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.test_service_support import running

pytest.importorskip("fastapi")

from rectoplan.service.app import Settings, create_app

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "service.md").read_text()


def test_documented_files_exist() -> None:
    for name in re.findall(r"(?:@|recommend )((?:tests|src)/[\w/.-]+\.json)", DOC):
        assert (ROOT / name).is_file(), name


def test_documented_curl_calls() -> None:
    calls = re.findall(r"curl -s -X POST http://127\.0\.0\.1:8080(\S+) \\\n.*-d @(\S+)", DOC)
    assert len(calls) == 2
    with running(create_app(Settings(insecure_dev=True))) as url:
        assert httpx.get(url + "/cds-services").json()["services"]
        for path, body in calls:
            response = httpx.post(url + path, json=json.loads((ROOT / body).read_text()), timeout=20)
            assert response.status_code == 200, (path, response.text)
            data = response.json()
            assert data["cards"] if path.startswith("/cds-services") else data["options"]
