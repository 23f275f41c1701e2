"""Reading knowledge files: YAML text to validated pydantic entries, every problem collected with its
file and the path inside it.

Split from `rectoplan.kb.loader`: the loader reports all problems of a knowledge base at once (a
reviewer fixes them in one pass), so reading a file, validating its entries, parsing their conditions
and resolving their citations all add to one list here instead of raising at the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rectoplan.core.conditions import Condition, Const, parse
from rectoplan.core.errors import Problem, RuleError
from rectoplan.core.knowledge import Citation, Source
from rectoplan.core.schema import FactType
from rectoplan.kb import strict_yaml
from rectoplan.kb.sources import Cite, parse_cite

M = TypeVar("M", bound=BaseModel)


class _Loader:
    """One loading run: the knowledge folder, the problems found so far and the sources read (the citations
    of every later file resolve against them). Each method adds what is wrong to `problems` and returns
    what it could read (nothing, or `Const(False)` for a condition), so that loading goes on to the end."""

    def __init__(self, root: Path | Any) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.sources: dict[str, Source] = {}

    # -- reading ----------------------------------------------------------------------------------
    def read(self, name: str) -> Any:
        node = self.root.joinpath(*name.split("/"))
        try:
            return strict_yaml.load(node.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problems.append(Problem(name, "no such file", "a knowledge file"))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(name, f"invalid YAML ({exc})".replace("\n", " "), "valid YAML"))
        return None

    def models(self, name: str, model: type[M], data: Any) -> list[tuple[str, M]]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.problems.append(Problem(name, type(data).__name__, "a list of entries"))
            return []
        out = []
        for i, item in enumerate(data):
            where = f"{name}: [{i}]" + (f" {item['id']}" if isinstance(item, dict) and "id" in item else "")
            parsed = self.model(where, model, item)
            if parsed is not None:
                out.append((where, parsed))
        return out

    def model(self, where: str, model: type[M], data: Any) -> M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                found = "nothing" if err["type"] == "missing" else repr(err.get("input"))[:60]
                expected = "no such key" if err["type"] == "extra_forbidden" else str(err["msg"]).lower()
                self.problems.append(Problem(f"{where}.{path}", found, expected))
            return None

    def option_files(self) -> list[str]:
        folder = self.root.joinpath("options")
        return sorted(f"options/{p.name}" for p in folder.iterdir() if p.name.endswith(".yaml"))

    # -- pieces -----------------------------------------------------------------------------------
    def cite(self, where: str, items: Cite) -> tuple[Citation, ...]:
        return parse_cite(where, items, self.sources, self.problems)

    def condition(self, where: str, data: Any, schema: dict[str, FactType]) -> Condition:
        try:
            return parse(data, schema, where)
        except RuleError as exc:
            self.problems.extend(exc.problems)
            return Const(False)
