"""How %runcomfy reads its line and its cell body (no HTTP here)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from runcomfy_nb.magics import parse_body, parse_pairs, tokenize

TYPES = {"prompt": "string", "seed": "integer", "scale": "number", "force_single": "boolean", "style": "object",
         "width×height": "string", "602_num_frames": "integer"}


def pairs(line: str, namespace: dict | None = None) -> dict:
    return parse_pairs(tokenize(line), TYPES, namespace or {})


def test_quoted_values_numbers_booleans_json() -> None:
    got = pairs('prompt="a red fox, at dawn" seed=7 scale=0.5 force_single=TRUE style={"a": [1, 2], "b": "x y"} '
                "width×height='1024x1024(1:1)' 602_num_frames=81")
    assert got == {"prompt": "a red fox, at dawn", "seed": 7, "scale": 0.5, "force_single": True,
                   "style": {"a": [1, 2], "b": "x y"}, "width×height": "1024x1024(1:1)", "602_num_frames": 81}


def test_schema_types_decide_bare_values() -> None:
    assert pairs("prompt=123") == {"prompt": "123"}       # a string field keeps digits as text
    assert pairs('seed="42"') == {"seed": "42"}           # quoted is always text (validation will say so)
    assert pairs("prompt=true") == {"prompt": "true"}


def test_escapes_in_double_quotes() -> None:
    assert pairs(r'prompt="say \"hi\"\nthere"') == {"prompt": 'say "hi"\nthere'}


def test_objects_from_the_notebook_with_at() -> None:
    marker = object()
    assert pairs("style=@obj", {"obj": marker}) == {"style": marker}
    with pytest.raises(UsageError, match="no variable named 'nope'"):
        pairs("style=@nope")


@pytest.mark.parametrize("line, message", [
    ('prompt="unclosed', "Unclosed quote"),
    ("justaword", "Expected key=value"),
    ("style={bad json}", "Invalid JSON"),
])
def test_bad_usage_says_how_to_fix(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        pairs(line)


def test_cell_body_key_lines_with_multiline_prompt() -> None:
    body = "prompt: a tea house\n  in the mountains\n\nseed: 5\nforce_single: false\n"
    assert parse_body(body, TYPES) == {"prompt": "a tea house\n  in the mountains", "seed": 5, "force_single": False}


def test_cell_body_unknown_key_lines_continue_the_prompt() -> None:
    body = "prompt: first line\nnote: this is part of the prompt\nseed: 1"
    assert parse_body(body, TYPES) == {"prompt": "first line\nnote: this is part of the prompt", "seed": 1}


def test_cell_body_json() -> None:
    assert parse_body('{"prompt": "x", "seed": 3}', TYPES) == {"prompt": "x", "seed": 3}
    with pytest.raises(UsageError, match="not valid JSON"):
        parse_body('{"prompt": }', TYPES)
