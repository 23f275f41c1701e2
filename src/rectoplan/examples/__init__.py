"""Built-in example cases (invented patients) for `rectoplan demo`, the README and the tests."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import yaml


def demo_cases() -> list[tuple[str, dict[str, Any]]]:
    """(name, case dict with an added 'note' for display) in the order of index.yaml."""
    folder = resources.files("rectoplan") / "examples"
    index = yaml.safe_load((folder / "index.yaml").read_text(encoding="utf-8"))
    out = []
    for entry in index:
        case = json.loads((folder / entry["file"]).read_text(encoding="utf-8"))
        out.append((entry["name"], case))
    return out


def demo_notes() -> dict[str, str]:
    folder = resources.files("rectoplan") / "examples"
    index = yaml.safe_load((folder / "index.yaml").read_text(encoding="utf-8"))
    return {entry["name"]: entry["note"] for entry in index}
