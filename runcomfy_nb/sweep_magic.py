"""`%runcomfy sweep` and `%%runcomfy sweep`: a sweep from one line (or a cell), parsed here, run by `rc.sweep`.

    %runcomfy sweep blackforestlabs/flux-1-kontext/pro/edit prompt=["make it winter","make it night"] seed=1..4 image_url=@photo
    %runcomfy sweep MODEL prompt="one prompt" seed=[1,5,9] --max-in-flight 2 --fresh -o grid

    %%runcomfy sweep blackforestlabs/flux-1-kontext/pro/edit -o grid
    prompt: ["make it winter", "make it night"]
    seed: 1..4
    image_url: https://example.com/photo.png

An unquoted `[...]` JSON list is an axis (for a field whose type is an array it is one value: pass
`key=@name` with `name = rc.vary([...])` to sweep it); `A..B` (integers, both included) is an axis of numbers;
anything else is a value as in `%runcomfy MODEL` (quoted values are always text; `key=@name` passes an object,
e.g. `seed=@seeds` with `seeds = rc.seed_control("increment", 1)`).
Options: --max-in-flight N, --fresh (send even when identical results exist), -o NAME, --wait, --timeout S,
--no-validate.
"""

from __future__ import annotations

import json
import re
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from .magic_syntax import Token, parse_body, parse_pairs, tokenize


def _field_types(model_id: str) -> dict[str, str]:
    """The model's field types by key (empty when the model has no known schema)."""
    from . import _shortcuts
    from .schemas import normalise

    raw = _shortcuts.schema(model_id)
    if not raw:
        return {}
    return {k: str(v.get("type")) for k, v in normalise(raw)["properties"].items() if isinstance(v.get("type"), str)}

_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")
_FLAGS = {"--fresh", "--wait", "--no-validate"}
_WITH_VALUE = {"--max-in-flight", "-o", "--out", "--timeout"}
MAX_RANGE = 10_000  # a typo like seed=1..1000000 must not become a million jobs


def axis_value(key: str, text: str, field_type: str | None) -> list[Any] | None:
    """The axis an unquoted value spells (a JSON list or A..B), or None when it is a single value."""
    text = text.strip()
    match = _RANGE.match(text)
    if match and field_type in (None, "integer", "number"):
        start, end = int(match.group(1)), int(match.group(2))
        step = 1 if end >= start else -1
        if abs(end - start) + 1 > MAX_RANGE:
            raise UsageError(f"{key}={text}: a range of {abs(end - start) + 1} values; at most {MAX_RANGE}")
        return list(range(start, end + step, step))
    if text.startswith("[") and field_type != "array":
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            raise UsageError(f"{key}: the list {text[:60]!r} is not valid JSON ({error}); write "
                             f'{key}=["first", "second"]') from None
        if not isinstance(value, list) or not value:
            raise UsageError(f"{key}: an axis needs at least one value; got {text[:60]!r}")
        return value
    return None


def parse_sweep(line: str, cell: str | None, namespace: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(model_id, inputs with list values as axes, options) from the text after `%runcomfy sweep`."""
    tokens = tokenize(line.strip())
    options: dict[str, Any] = {"fresh": False, "wait": False, "validate": None, "max_in_flight": None,
                               "out": None, "timeout": None}
    pairs: list[Token] = []
    positionals: list[str] = []
    it = iter(tokens)
    for token in it:
        if token.startswith("-") and not token.quoted and "=" not in token:
            if token in _FLAGS:
                if token == "--no-validate":
                    options["validate"] = False
                else:
                    options[token[2:]] = True
            elif token in _WITH_VALUE:
                value = next(it, None)
                if value is None:
                    raise UsageError(f"{token} needs a value")
                name = {"-o": "out", "--out": "out", "--max-in-flight": "max_in_flight"}.get(token, token[2:])
                try:
                    options[name] = int(value) if name == "max_in_flight" else float(value) if name == "timeout" \
                        else str(value)
                except ValueError:
                    raise UsageError(f"{token} needs a number; got {value!r}") from None
            else:
                raise UsageError(f"Unknown option {token} for %runcomfy sweep; known: "
                                 f"{', '.join(sorted(_FLAGS | _WITH_VALUE))}")
        elif "=" in token and positionals:
            pairs.append(token)
        else:
            positionals.append(str(token))
    if len(positionals) != 1 or "/" not in positionals[0]:
        raise UsageError("Name one model: `%runcomfy sweep MODEL prompt=[\"a\", \"b\"] seed=1..4` (see `%runcomfy?`)")
    model_id = positionals[0]
    types = _field_types(model_id)
    inputs: dict[str, Any] = {}
    if cell is not None:
        for key, parsed in parse_body(cell, types).items():  # a JSON list of numbers arrives as a list already
            axis = axis_value(key, parsed, types.get(key)) if isinstance(parsed, str) else None
            inputs[key] = axis if axis is not None else parsed
    for token in pairs:
        key, _, text = token.partition("=")
        axis = None if token.quoted or text.startswith("@") else axis_value(key, text, types.get(key))
        if axis is not None:
            inputs[key] = axis
        else:
            inputs.update(parse_pairs([token], types, namespace))
    return model_id, inputs, options


def sweep_magic(line: str, cell: str | None, shell: Any) -> Any:
    """Run `%runcomfy sweep …`: parse, start the sweep, show its grid; returns the Sweep."""
    from ._client import default_client
    from .sweeps import sweep
    from .sweepview import shown_in_this_cell

    quiet = line.rstrip().endswith(";")
    namespace = shell.user_ns if shell is not None else {}
    model_id, inputs, options = parse_sweep(line.rstrip().rstrip(";"), cell, namespace)
    result = sweep(model_id, inputs, max_in_flight=options["max_in_flight"], fresh=options["fresh"],
                   validate=options["validate"], client=default_client())
    if options["out"]:
        namespace[options["out"]] = result
    if not quiet:
        display(result)
    shown_in_this_cell(result)
    if options["wait"]:
        result.wait(options["timeout"])
    return result
