"""YAML for knowledge files, with duplicate keys as errors.

PyYAML keeps the last of two equal keys in a mapping without a word, so an edit that leaves a second
`applies_to:` under one entry (or drops an `- id:` line, merging two entries) silently changes which options
a rule applies to. The knowledge is reviewed as text; what the text says twice must be an error instead.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen and key != "<<":
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice (first {seen[key].start_mark.line + 1}, again)",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> Any:
    """The data of one YAML document; `yaml.YAMLError` (a `ConstructorError`) on a repeated key."""
    return yaml.load(text, Loader=_StrictLoader)
