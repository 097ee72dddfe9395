"""How deeply a JSON text nests, measured before parsing it. Pure.

Python's json module recurses once per nesting level, and where it gives up depends on the interpreter
(a RecursionError near a thousand levels on 3.11; 3.13 reads far deeper). Both HTTP functions bound the
depth themselves, so a body is refused or read the same way on every Python.
"""

from __future__ import annotations

import re

# One pass over what matters for nesting: escapes (so \" does not end a string), quotes and brackets.
_TOKEN = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest, in linear time (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = False
    for token in _TOKEN.findall(text):
        if token == '"':
            in_string = not in_string
        elif in_string or token[0] == "\\":
            continue
        elif token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest
