"""The `%runcomfy` line and `%%runcomfy` body: tokens, `key=value` pairs, `key: value` lines, `$name`/`{expr}`.

Pure parsing (no API calls): the magic (runcomfy_nb.magics), the sweep magic and tab completion share it.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from IPython.core.error import UsageError

from .errors import brief

SUBCOMMANDS = ("models", "info", "form", "jobs", "history", "attach", "cancel", "sim", "sweep")
_OPTIONS_WITH_VALUE = {"-o", "--out", "--timeout"}
_KEY_LINE = re.compile(r"^([^\s:=#]+)\s*:(?:\s|$)(.*)$")
# $name or $name.attr (IPython's spelling); `$$` is a literal dollar.
_DOLLAR = re.compile(r"\$\$|\$([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


class Token(str):
    """A command-line token and the quoting of its pieces: (text, "bare" | "double" | "single")."""

    pieces: tuple[tuple[str, str], ...] = ()

    @property
    def quoted(self) -> bool:
        return any(kind != "bare" for _, kind in self.pieces)


def tokenize(line: str) -> list[Token]:
    """Split on spaces, keeping quoted strings and {…}/[…] values (with spaces) whole."""
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        pieces: list[tuple[str, str]] = []
        bare: list[str] = []
        depth = 0
        while i < n and (depth > 0 or not line[i].isspace()):
            ch = line[i]
            if ch in "\"'" and depth == 0:
                end = i + 1
                while end < n and line[end] != ch:
                    end += 2 if line[end] == "\\" and ch == '"' else 1
                if end >= n:
                    raise UsageError(f"Unclosed quote in: {brief(line[i:])} — close it with {ch}")
                if bare:
                    pieces.append(("".join(bare), "bare"))
                    bare = []
                body = line[i + 1:end]
                pieces.append((_unescape(body) if ch == '"' and "\\" in body else body,
                               "double" if ch == '"' else "single"))
                i = end + 1
                continue
            if ch in "{[":
                depth += 1
            elif ch in "}]":
                depth = max(depth - 1, 0)
            if depth > 0 and ch in "\"'":  # a string inside JSON or an expression: copy it verbatim
                end = line.find(ch, i + 1)
                while end != -1 and line[end - 1] == "\\":
                    end = line.find(ch, end + 1)
                end = n - 1 if end == -1 else end
                bare.append(line[i:end + 1])
                i = end + 1
                continue
            bare.append(ch)
            i += 1
        if bare:
            pieces.append(("".join(bare), "bare"))
        token = Token("".join(text for text, _ in pieces))
        token.pieces = tuple(pieces)
        tokens.append(token)
    return tokens


def _unescape(body: str) -> str:
    """A double-quoted value's backslash escapes (\\n, \\", \\u00e9…), as in JSON."""
    try:
        return json.loads(f'"{body}"')
    except json.JSONDecodeError as error:
        raise UsageError(f"Bad escape in the quoted value {brief(body)}: {error.msg} (use \\\\ for a backslash)") from None



def convert(raw: str, quoted: bool, field_type: str | None) -> Any:
    """A bare value typed by the field's schema type (or guessed when unknown); quoted stays a string."""
    if quoted:
        return raw
    text = raw.strip()
    lowered = text.lower()
    if field_type == "string":
        return raw
    if lowered in ("true", "false") and field_type in (None, "boolean"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if text[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise UsageError(f"Invalid JSON value {brief(text)}: {error.msg} at column {error.colno}") from None
        except RecursionError:
            raise UsageError(f"Invalid JSON value {brief(text)}: nested too deeply") from None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return raw


def _typed(value: Any, field_type: str | None) -> Any:
    """An object from the notebook as the field wants it: text into a number field is parsed, a number into a
    text field becomes its text; anything else (an image, a list…) is passed as it is."""
    if isinstance(value, str):
        return convert(value, False, field_type) if field_type not in (None, "string") else value
    if field_type == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


class Expander:
    """`$name`, `$$`, `{expr}`, `{{`, `}}` in a magic's line, evaluated in the notebook's namespace.

    Done here rather than by IPython (the magic is `@no_var_expand`): IPython pastes the value's text into the
    line before the magic reads it, so a value with spaces or quotes broke the line apart or lost its quotes.
    """

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def evaluate(self, expression: str, shown: str) -> Any:
        try:
            return eval(expression, self.namespace)  # noqa: S307 - the person's own notebook code, as IPython does
        except Exception as error:
            hint = " (write {{ and }} for literal braces, $$ for a dollar sign, or use 'single quotes')" \
                if isinstance(error, NameError | SyntaxError) else ""
            raise UsageError(f"{shown}: {type(error).__name__}: {error}{hint}") from None

    def whole(self, text: str) -> tuple[bool, Any]:
        """(True, the object) when `text` is exactly one `$name` or `{expr}`."""
        match = _DOLLAR.fullmatch(text)
        if match and match.group(1):
            return True, self.evaluate(match.group(1), text)
        if text.startswith("{") and text.endswith("}") and not text.startswith("{{"):
            end = self._closing(text, 0)
            if end == len(text) - 1:
                return True, self.evaluate(text[1:-1], text)
        return False, None

    def text(self, text: str) -> str:
        """`text` with every reference replaced by the value's text."""
        out: list[str] = []
        i = 0
        while i < len(text):
            ch = text[i]
            if text.startswith(("{{", "}}"), i):
                out.append(ch)
                i += 2
            elif ch == "{":
                end = self._closing(text, i)
                if end < 0:
                    raise UsageError(f"Unclosed {{ in {brief(text)} (write {{{{ for a literal brace)")
                out.append(str(self.evaluate(text[i + 1:end], text[i:end + 1])))
                i = end + 1
            elif ch == "$":
                match = _DOLLAR.match(text, i)
                if match is None:
                    out.append(ch)
                    i += 1
                    continue
                out.append("$" if match.group(0) == "$$" else str(self.evaluate(match.group(1), match.group(0))))
                i = match.end()
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    @staticmethod
    def _closing(text: str, start: int) -> int:
        depth = 0
        quote = ""
        for j in range(start, len(text)):
            ch = text[j]
            if quote:
                if ch == quote and text[j - 1] != "\\":
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return j
        return -1


def _is_expression(text: str) -> bool:
    try:
        compile(text, "<value>", "eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _value(pieces: list[tuple[str, str]], field_type: str | None, expander: Expander | None) -> Any:
    """One `key=` value from its pieces: references inserted as one value, typed by the schema."""
    if expander is None:  # no notebook: plain text, as written
        return convert("".join(t for t, _ in pieces), any(k != "bare" for _, k in pieces), field_type)
    if len(pieces) == 1:
        text, kind = pieces[0]
        if kind == "single":
            return text
        if kind == "bare" and text[:1] in "{[":
            try:
                return json.loads(text)  # a JSON object or list, e.g. style={"k": 1}
            except json.JSONDecodeError as error:
                if text[:1] == "[" or not _is_expression(text[1:-1]):
                    raise UsageError(f"Invalid JSON value {brief(text)}: {error.msg} at column {error.colno}"
                                     + ("" if text[:1] == "[" else " (nor is it a Python {expression})")) from None
            except RecursionError:
                raise UsageError(f"Invalid JSON value {brief(text)}: nested too deeply") from None
        found, obj = expander.whole(text)
        if found:
            return _typed(obj, field_type) if kind == "bare" else str(obj)
    joined = "".join(text if kind == "single" else expander.text(text) for text, kind in pieces)
    return convert(joined, any(k != "bare" for _, k in pieces), field_type)


def parse_pairs(tokens: list[Token], types: dict[str, str], namespace: dict[str, Any] | None) -> dict[str, Any]:
    """`key=value` tokens as inputs; with a namespace, `$name`, `{expr}` and `@name` take values from it."""
    expander = Expander(namespace) if namespace is not None else None
    inputs: dict[str, Any] = {}
    for token in tokens:
        first, kind = token.pieces[0] if token.pieces else ("", "bare")
        key, sep, rest = first.partition("=") if kind == "bare" else ("", "", "")
        if not sep or not key:
            raise UsageError(f"Expected key=value, got {brief(str(token))}. Quote values with spaces: prompt=\"a red fox\"")
        pieces = ([(rest, "bare")] if rest else []) + list(token.pieces[1:])
        if len(pieces) == 1 and pieces[0][1] == "bare" and pieces[0][0].startswith("@"):
            name = pieces[0][0][1:]
            if namespace is None or name not in namespace:
                raise UsageError(f"{key[:40]}=@{name[:40]}: no variable named {brief(name)} in the notebook")
            inputs[key] = namespace[name]
        else:
            inputs[key] = _value(pieces or [("", "bare")], types.get(key), expander)
    return inputs


def parse_body(body: str, types: dict[str, str]) -> dict[str, Any]:
    """A %%runcomfy cell body: a JSON object, or `key: value` lines.

    A value goes on over the following lines only while they are indented (or blank); `key:` alone starts a
    block of indented lines. Any other line is an error: a stray line is never glued onto the prompt.
    """
    text = body.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise UsageError(f"The cell is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
        except RecursionError:
            raise UsageError("The cell is not valid JSON: nested too deeply") from None
        if not isinstance(value, dict):
            raise UsageError("The cell must hold a JSON object")
        return value
    inputs: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            if current is not None:
                inputs[current][1].append("")
            continue
        if line[:1].isspace():
            if current is None:
                raise UsageError(f"Line {number}: an indented line continues a value, but no `key: value` line "
                                 f"comes before it: {brief(line)}")
            inputs[current][1].append(line)
            continue
        if line.startswith("#"):
            continue
        match = _KEY_LINE.match(line)
        if not match:
            raise UsageError(f"Line {number}: expected `key: value`, got {brief(line)}. To continue the value "
                             "above on this line, indent it.")
        current = match.group(1)
        if current in inputs:
            raise UsageError(f"Line {number}: {current!r} is given twice")
        inputs[current] = (match.group(2), [])
    result = {}
    for key, (first, more) in inputs.items():
        block = textwrap.dedent("\n".join(more)).strip("\n")
        value = "\n".join(part for part in (first.strip(), block) if part)
        result[key] = convert(value, False, types.get(key))
    return result
