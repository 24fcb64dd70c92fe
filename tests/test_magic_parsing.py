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
    body = "prompt: a tea house\n  in the mountains\n\n  at dawn\nseed: 5\nforce_single: false\n"
    assert parse_body(body, TYPES) == {"prompt": "a tea house\nin the mountains\n\nat dawn", "seed": 5,
                                       "force_single": False}


def test_cell_body_block_after_a_bare_key() -> None:
    body = "prompt:\n    line one\n      indented more\n# a comment\nseed: 2"
    assert parse_body(body, TYPES) == {"prompt": "line one\n  indented more", "seed": 2}


def test_cell_body_unknown_keys_stay_keys() -> None:
    # They used to be glued onto the prompt; now they are their own inputs (validation refuses them by name).
    body = "prompt: a paper crane\nwidthxheight: 2304x1728(4:3)\nsead: 5"
    assert parse_body(body, TYPES) == {"prompt": "a paper crane", "widthxheight": "2304x1728(4:3)", "sead": 5}


@pytest.mark.parametrize("body, message", [
    ("prompt: first line\nsecond line not indented", "Line 2: expected `key: value`"),
    ("  indented first", "Line 1: an indented line"),
    ("seed=5", "Line 1: expected `key: value`"),
    ("seed: 1\nseed: 2", "given twice"),
])
def test_cell_body_stray_lines_are_errors(body: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_body(body, TYPES)


def test_references_insert_one_value_whatever_it_holds() -> None:
    quoted = 'it\'s a "quoted" fox\nwith a second line'
    ns = {"p": "a red fox in the snow", "q": quoted, "n": 7, "s": "42", "d": {"k": [1, 2]}}
    assert pairs("prompt=$p", ns) == {"prompt": "a red fox in the snow"}
    assert pairs("prompt={q}", ns) == {"prompt": quoted}
    assert pairs('prompt="{q}"', ns) == {"prompt": quoted}
    assert pairs('prompt="$p, at dawn"', ns) == {"prompt": "a red fox in the snow, at dawn"}
    assert pairs("seed=$n prompt=$n", ns) == {"seed": 7, "prompt": "7"}      # typed by the field
    assert pairs("seed=$s scale={n / 2}", ns) == {"seed": 42, "scale": 3.5}
    assert pairs("style=$d", ns) == {"style": {"k": [1, 2]}}
    assert pairs("prompt='$p {q}'", ns) == {"prompt": "$p {q}"}               # single quotes are literal
    assert pairs('prompt="costs $$5 {{x}}"', ns) == {"prompt": "costs $5 {x}"}


def test_unknown_reference_is_an_error() -> None:
    with pytest.raises(UsageError, match=r"\$nope: NameError.*\$\$ for a dollar"):
        pairs("prompt=$nope", {})
    with pytest.raises(UsageError, match="Unclosed"):
        pairs('prompt="a {b"', {"b": 1})


def test_cell_body_json() -> None:
    assert parse_body('{"prompt": "x", "seed": 3}', TYPES) == {"prompt": "x", "seed": 3}
    with pytest.raises(UsageError, match="not valid JSON"):
        parse_body('{"prompt": }', TYPES)
