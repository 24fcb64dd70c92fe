"""Tab completion for `%runcomfy`, `%%runcomfy` bodies and `rc.submit("…", …)`-style calls (IPython's Matcher API v2).

Completes subcommands, model ids, and after a model id its field names and enum (or boolean) values. Only local
knowledge is used (the shipped schemas and the schemas a client already fetched): a Tab never waits on the network.
"""

from __future__ import annotations

import re
from typing import Any

from IPython.core.completer import CompletionContext, SimpleCompletion, SimpleMatcherResult, context_matcher

from .magics import _OPTIONS_WITH_VALUE, SUBCOMMANDS

_LINE_MAGIC = re.compile(r"(?:^|[=(;]\s*|^\s+)%runcomfy\s+(.*)$")
_CELL_MAGIC = re.compile(r"^\s*%%runcomfy\s+(?:sweep\s+)?(\S+)")
# rc.submit("model…   client.start("model", key…   rc.form("…   rc.info("…   rc.sweep("…
_CALL = re.compile(r"\.(submit|start|submit_async|run|form|info|schema|sweep)\(\s*(['\"])([^'\"]*)$")
_CALL_KEYWORD = re.compile(r"\.(?:submit|start|submit_async|run|sweep)\(\s*(['\"])([^'\"]+)\1\s*,(?:[^()]*[,\s])?(\w*)$")
_CALL_VALUE = re.compile(r"\.(?:submit|start|submit_async|run|sweep)\(\s*(['\"])([^'\"]+)\1\s*,[^()]*?(\w+)\s*=\s*(['\"])([^'\"]*)$")
_OPTIONS = ("--wait", "--no-validate", "-o", "--out", "--timeout")
_NEEDS_QUOTES = re.compile(r"[\s\"'$={}@#;]")


def model_ids() -> list[str]:
    """Model ids known without a request: the shipped ones and any whose schema a client already fetched."""
    from . import _client, schemas

    ids = [m["model_id"] for m in schemas.shipped_models()]
    for client in list(_client._clients.values()):
        ids += [k for k, v in list(client._schemas.items()) if v]
    return sorted(dict.fromkeys(ids))


def _fields(model_id: str) -> dict[str, dict[str, Any]]:
    from . import _client, schemas

    raw = schemas.shipped_schema(model_id)
    if raw is None:
        for client in list(_client._clients.values()):
            raw = client._schemas.get(model_id) or raw
    return {f["key"]: f for f in schemas.describe_fields(raw)} if raw else {}


def _values(field: dict[str, Any]) -> list[Any]:
    if "choices" in field:
        return list(field["choices"])
    if field.get("kind") == "boolean":
        return [True, False]
    return []


def _literal(value: Any) -> str:
    """A value as typed in the magic line: bare when it can be, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if text and not _NEEDS_QUOTES.search(text) else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _current_word(text: str) -> tuple[list[str], str]:
    """(the finished words, the word being typed) of a magic line, quotes respected."""
    words: list[str] = []
    word: list[str] = []
    quote, depth = "", 0
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth = max(depth - 1, 0)
        elif ch.isspace() and depth == 0:
            if word:
                words.append("".join(word))
            word = []
            continue
        word.append(ch)
    return words, "".join(word)


def _starts(candidates: list[str], fragment: str) -> list[str]:
    low = fragment.lower()
    first = [c for c in candidates if c.lower().startswith(low)]
    return first or [c for c in candidates if low and low in c.lower()]


def _model_field_completions(model_id: str, fragment: str, separator: str) -> list[str]:
    """`key<sep>` names, or after `key<sep>` the key's values, for one model."""
    fields = _fields(model_id)
    key, sep, partial = fragment.partition(separator.strip() or "=")
    if sep:
        field = fields.get(key)
        if field is None:
            return []
        shown = [(_literal(v) if separator == "=" else (str(v).lower() if isinstance(v, bool) else str(v)))
                 for v in _values(field)]
        partial = partial.lstrip().lstrip("\"'")
        return [f"{key}{separator}{v}" for v in shown
                if v.lstrip("\"").lower().startswith(partial.lower())] or \
               [f"{key}{separator}{v}" for v in shown if partial and partial.lower() in v.lower()]
    return [f"{k}{separator}" for k in _starts(list(fields), fragment)]


def _line_magic(rest: str) -> tuple[str, list[str]]:
    words, fragment = _current_word(rest)
    words = [w for i, w in enumerate(words) if not (w.startswith("-") or (i and words[i - 1] in _OPTIONS_WITH_VALUE))]
    if fragment.startswith("-"):
        return fragment, [o for o in _OPTIONS if o.startswith(fragment)]
    if not words:
        subcommands = [s for s in SUBCOMMANDS if s.startswith(fragment)]
        models = [m for m in model_ids() if m.startswith(fragment)]
        return fragment, [*subcommands, *models] or _starts(model_ids(), fragment)
    head = words[0]
    if head == "sweep":  # `%runcomfy sweep MODEL key=…`: the model, then its fields as for a run
        if len(words) == 1:
            return fragment, _starts(model_ids(), fragment)
        head = words[1]
    if head in ("info", "form") and len(words) == 1:
        return fragment, _starts(model_ids(), fragment)
    if head in ("attach", "cancel") and len(words) == 1:
        from . import _shortcuts as api

        ids = [row["request_id"] for row in api.jobs(limit=50) if row.get("request_id")]  # the local journal
        return fragment, [i for i in ids if i.startswith(fragment)]
    if head == "sim" and len(words) == 1:
        return fragment, [w for w in ("on", "off") if w.startswith(fragment)]
    if "/" in head:
        return fragment, _model_field_completions(head, fragment, "=")
    return fragment, []


def _cell_body(model_id: str, line: str) -> tuple[str, list[str]]:
    if line[:1].isspace():
        return "", []  # a continuation line: free text
    return line, _model_field_completions(model_id, line, ": ")


def _python_call(text: str) -> tuple[str, list[str]] | None:
    match = _CALL_VALUE.search(text)
    if match:
        field = _fields(match.group(2)).get(match.group(3))
        choices = [str(v) for v in _values(field or {}) if isinstance(v, str)]
        return match.group(5), _starts(choices, match.group(5))
    match = _CALL.search(text)
    if match:
        return match.group(3), _starts(model_ids(), match.group(3))
    match = _CALL_KEYWORD.search(text)
    if match and match.group(3) is not None:
        fields = _fields(match.group(2))
        names = [k for k in fields if k.isidentifier() and k.startswith(match.group(3))]
        return match.group(3), [f"{k}=" for k in names]
    return None


@context_matcher()
def runcomfy_matcher(context: CompletionContext) -> SimpleMatcherResult:
    """IPython matcher: completions for `%runcomfy` lines, `%%runcomfy` bodies and rc.submit-style calls."""
    before = context.text_until_cursor
    fragment: str = ""
    found: list[str] = []
    first_line = context.full_text.split("\n", 1)[0]
    cell = _CELL_MAGIC.match(first_line)
    line_magic = _LINE_MAGIC.search(before)
    if line_magic:
        fragment, found = _line_magic(line_magic.group(1))
    elif cell and context.cursor_line > 0:
        fragment, found = _cell_body(cell.group(1), before)
    else:
        call = _python_call(before)
        if call:
            fragment, found = call
    if not found:
        return SimpleMatcherResult(completions=[], suppress=False)  # type: ignore[typeddict-item]
    return SimpleMatcherResult(completions=[SimpleCompletion(text, type="runcomfy") for text in found],
                               matched_fragment=fragment, suppress=True, ordered=True)  # type: ignore[typeddict-item]


def register(shell: Any) -> None:
    """Add the matcher to the shell's completer (once)."""
    completer = getattr(shell, "Completer", None)
    if completer is not None and runcomfy_matcher not in completer.custom_matchers:
        completer.custom_matchers.append(runcomfy_matcher)
