"""`%runcomfy` and `%%runcomfy`: parse, then call the same public API a script would."""

from __future__ import annotations

import difflib
import html
import json
import re
import textwrap
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import HTML, display
from traitlets import Bool, Unicode, observe

SUBCOMMANDS = ("models", "info", "form", "jobs", "attach", "cancel", "sim")
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
                    raise UsageError(f"Unclosed quote in: {_clip(line[i:])} — close it with {ch}")
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
        raise UsageError(f"Bad escape in the quoted value {_clip(body)}: {error.msg} (use \\\\ for a backslash)") from None


def _clip(text: str, limit: int = 80) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


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
            raise UsageError(f"Invalid JSON value {_clip(text)}: {error.msg} at column {error.colno}") from None
        except RecursionError:
            raise UsageError(f"Invalid JSON value {_clip(text)}: nested too deeply") from None
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
                    raise UsageError(f"Unclosed {{ in {_clip(text)} (write {{{{ for a literal brace)")
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
                    raise UsageError(f"Invalid JSON value {_clip(text)}: {error.msg} at column {error.colno}"
                                     + ("" if text[:1] == "[" else " (nor is it a Python {expression})")) from None
            except RecursionError:
                raise UsageError(f"Invalid JSON value {_clip(text)}: nested too deeply") from None
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
            raise UsageError(f"Expected key=value, got {_clip(str(token))}. Quote values with spaces: prompt=\"a red fox\"")
        pieces = ([(rest, "bare")] if rest else []) + list(token.pieces[1:])
        if len(pieces) == 1 and pieces[0][1] == "bare" and pieces[0][0].startswith("@"):
            name = pieces[0][0][1:]
            if namespace is None or name not in namespace:
                raise UsageError(f"{key[:40]}=@{name[:40]}: no variable named {_clip(name)} in the notebook")
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
                                 f"comes before it: {_clip(line)}")
            inputs[current][1].append(line)
            continue
        if line.startswith("#"):
            continue
        match = _KEY_LINE.match(line)
        if not match:
            raise UsageError(f"Line {number}: expected `key: value`, got {_clip(line)}. To continue the value "
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


# User errors the magic shows as one short block (no traceback) unless debugging.
def _short_errors() -> tuple[type[Exception], ...]:
    from .errors import (
        AuthError,
        ConfigError,
        InputValidationError,
        InsufficientBalanceError,
        NotFoundError,
        ServerValidationError,
    )

    return (InputValidationError, ConfigError, AuthError, NotFoundError, ServerValidationError,
            InsufficientBalanceError)


def _pack(items: list[str], width: int, indent: str) -> list[str]:
    """Items joined by commas into lines of at most `width`, never splitting an item."""
    lines: list[str] = []
    line = indent
    for n, item in enumerate(items):
        piece = item + ("," if n < len(items) - 1 else "")
        if line.strip() and len(line) + 1 + len(piece) > width:
            lines.append(line)
            line = indent
        line += (" " if line.strip() else "") + piece
    return [*lines, line] if line.strip() else lines


def short_error(error: Exception, model_id: str | None, fields: dict[str, dict[str, Any]],
                notes: list[str]) -> list[str]:
    """The lines of the block shown for a user error: what, which field (key and title), rule, value, fix."""
    from .errors import InputValidationError, brief
    from .schemas import ALL_CHOICES_UP_TO

    width = 116
    name = type(error).__name__
    if not isinstance(error, InputValidationError):
        lines = textwrap.wrap(f"{name}: {error}", width, subsequent_indent="  ")
        return [*lines, "(Full traceback: %xmode Verbose or rc.settings.debug = True.)"]
    problems = error.errors
    count = f"{len(problems)} input{'s' if len(problems) != 1 else ''} to fix"
    lines = [f"{name}: {model_id or 'inputs'} — {count}; nothing was sent."]
    for problem in problems:
        text = str(problem)
        field = problem.field or ""
        title = str(fields.get(field, {}).get("title") or field)
        named = f"{field} ({title})" if title != field else field
        choices = fields.get(field, {}).get("enum")
        if problem.rule == "enum" and isinstance(choices, list) and len(choices) <= ALL_CHOICES_UP_TO:
            lines.append(f"  • {named}: got {brief(problem.value)}, which is not one of the {len(choices)} choices:")
            lines += _pack([repr(c) for c in choices], width, "      ")
            continue
        if field and text.startswith(f"{field}:"):
            text = f"{named}:" + text[len(field) + 1:]
        lines += textwrap.wrap(text, width, initial_indent="  • ", subsequent_indent="      ")
    lines += [f"  ({note})" for note in notes]
    fix = "Fix and run the cell again"
    lines.append(fix + (f"; all fields, ranges and choices: %runcomfy info {model_id}" if model_id else "."))
    return [*lines, "(Full traceback: %xmode Verbose or rc.settings.debug = True.)"]



@magics_class
class RunComfyMagics(Magics):
    """%runcomfy — run RunComfy models from a notebook. Settings: `%config RunComfyMagics.autosave_dir = "out"`."""

    autosave_dir = Unicode(None, allow_none=True, help="Download every output here as soon as its job completes.").tag(config=True)
    save_dir = Unicode("runcomfy_outputs", help="Where the Save button and Output.save() write.").tag(config=True)
    validate = Bool(True, help="Validate inputs against the model's schema before sending.").tag(config=True)

    @observe("autosave_dir", "save_dir", "validate")
    def _to_settings(self, change: dict[str, Any]) -> None:
        from .config import settings

        setattr(settings, change["name"], change["new"])

    @magic_arguments()
    @argument("target", nargs="?", help="A model id (e.g. wan-ai/wan-2-5/text-to-image) or a subcommand: "
              "models [SEARCH] | info MODEL | form MODEL | jobs [N] | attach ID | cancel ID | sim on|off")
    @argument("rest", nargs="*", help="Inputs as key=value: prompt=\"a red fox\" seed=7 force_single=true "
              "style='{\"k\": 1}'. Values from the notebook, each inserted as ONE value whatever it holds "
              "(spaces, quotes, newlines): key=$name or key={expr} (typed by the field: text for a text field, a "
              "number for a number field), key=@name (the object itself: a PIL image, bytes, a path); inside "
              "text: prompt=\"$who in the rain\". 'Single quotes' are literal; $$, {{ and }} write $, { and }. "
              "An x may stand for × in keys (widthxheight). Unknown fields and models are errors before "
              "anything is sent.")
    @argument("--wait", action="store_true", help="Block until the job ends (use `await job` to stay cancellable).")
    @argument("-o", "--out", metavar="NAME", help="Also store the Job in the notebook variable NAME.")
    @argument("--no-validate", action="store_true", help="Send the inputs without checking them against the "
              "schema (also for a model id that is not in the catalog).")
    @argument("--timeout", type=float, help="With --wait: give up waiting after this many seconds.")
    @no_var_expand
    @line_cell_magic
    def runcomfy(self, line: str, cell: str | None = None) -> Any:
        """Submit a job and show it live; or manage jobs, forms and the offline simulator.

        Examples:
          %runcomfy wan-ai/wan-2-5/text-to-image prompt="a red fox at dawn" aspect_ratio="1024:1024 (1:1)"
          job = %runcomfy ideogram/ideogram-v3/reframe image=@photo resolution="1024:1024 (1:1)"
          %runcomfy bytedance/dreamina-4-0/text-to-image prompt=$p seed={base + 1}
          %runcomfy info bytedance/dreamina-4-0/text-to-image
          %%runcomfy community/wan-2-1/fusionx/image-to-video -o clip
          600_prompt: a slow dolly zoom
            over a rainy street
          608_image: https://example.com/still.png

        In a %%runcomfy body each line is `key: value`; a value continues only on indented lines (`key:` alone
        starts an indented block); anything else is an error. Body values are literal (no $ or {} expansion).
        Mistakes (unknown field or model, a value out of range) stop before anything is sent and show one
        short message; `%xmode Verbose` or `rc.settings.debug = True` show the full traceback.
        """
        from .config import settings

        state: dict[str, Any] = {"model_id": None, "fields": {}, "notes": []}
        try:
            return self._runcomfy(line, cell, state)
        except _short_errors() as error:
            verbose = self.shell is not None and getattr(self.shell.InteractiveTB, "mode", "") == "Verbose"
            if not (settings.debug or verbose):
                lines = short_error(error, state["model_id"], state["fields"], state["notes"])
                error._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
            raise

    def _runcomfy(self, line: str, cell: str | None, state: dict[str, Any]) -> Any:
        quiet = line.rstrip().endswith(";")
        tokens = tokenize(line.rstrip().rstrip(";"))
        options, positionals = self._split(tokens)
        args = parse_argstring(self.runcomfy, " ".join([*options, *(["_"] if positionals else [])]))
        if not positionals:
            raise UsageError("Name a model or a subcommand, e.g. `%runcomfy models` or "
                             "`%runcomfy wan-ai/wan-2-5/text-to-image prompt=\"a fox\"`. See `%runcomfy?`.")
        namespace = self.shell.user_ns if self.shell else {}
        target = str(_value(list(positionals[0].pieces), "string", Expander(namespace)))
        rest = positionals[1:]
        if target in SUBCOMMANDS:
            if cell is not None:
                raise UsageError(f"%%runcomfy {target} takes no cell body; use the line magic %runcomfy {target}")
            return self._subcommand(target, [str(t) for t in rest], quiet)
        if "/" not in target:
            close = difflib.get_close_matches(target, SUBCOMMANDS, n=1)
            hint = f"; did you mean `%runcomfy {close[0]}`?" if close else ""
            raise UsageError(f"{_clip(target)} is neither a model id (owner/model/…) nor a subcommand "
                             f"({', '.join(SUBCOMMANDS)}){hint}")
        state["model_id"] = target
        return self._run_model(target, rest, cell, args, quiet, state)

    @staticmethod
    def _split(tokens: list[Token]) -> tuple[list[str], list[Token]]:
        options: list[str] = []
        positionals: list[Token] = []
        it = iter(tokens)
        for token in it:
            if token.startswith("-") and not token.quoted and "=" not in token:
                options.append(token)
                if token in _OPTIONS_WITH_VALUE:
                    value = next(it, None)
                    if value is None:
                        raise UsageError(f"{token} needs a value, e.g. {token} job")
                    options.append(value)
            else:
                positionals.append(token)
        return options, positionals

    def _run_model(self, model_id: str, tokens: list[Token], cell: str | None, args: Any, quiet: bool,
                   state: dict[str, Any]) -> Any:
        from .config import settings
        from .deferred_imports import deferred
        from .errors import ConfigError

        with deferred():  # the first call in a kernel imports httpx and jsonschema
            from . import api, schemas

            schemas._jsonschema()

        validate = settings.validate and not args.no_validate
        raw = api.schema(model_id)
        if raw is None and validate:
            raise schemas.unknown_model_error(model_id, [m["model_id"] for m in api.models()])
        normal = schemas.normalise(raw) if raw else {"properties": {}}
        props = normal["properties"]
        state["fields"] = props
        types = {k: str(p["type"]) for k, p in props.items() if isinstance(p.get("type"), str)}
        keys = list(props)

        def resolved(inputs: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for key, value in inputs.items():
                field = schemas.resolve_key(key, keys)
                if field != key:
                    state["notes"].append(f"read {key!r} as {field!r}")
                out[field] = value
            return out

        # Keys are resolved (x for ×) before typing, so `widthxheight=…` is typed as width×height.
        alias_types = {**{k.replace("×", "x"): t for k, t in types.items()}, **types}
        inputs = resolved(parse_body(cell, alias_types)) if cell is not None else {}
        inputs.update(resolved(parse_pairs(tokens, alias_types, self.shell.user_ns if self.shell else {})))
        try:
            client = api.default_client()
        except ConfigError:
            if validate and raw:  # the inputs' problems first: they can be fixed before any token exists
                from .media import prepare_media

                full = schemas.apply_defaults(raw, inputs)
                defaults = {k: p.get("default") for k, p in normal["properties"].items()}
                schemas.validate_inputs(raw, prepare_media(schemas.media_fields(raw), full, defaults))
            raise
        job = client.submit(model_id, inputs, validate=validate)
        if args.out:
            self.shell.user_ns[args.out] = job
        if not quiet:
            display(job)
        job._suppress_display_at = self.shell.execution_count if self.shell else None  # type: ignore[attr-defined]
        if args.wait:
            job.wait(args.timeout)
        return job

    def _subcommand(self, name: str, rest: list[str], quiet: bool) -> Any:
        from . import api

        if name == "models":
            models = api.models(rest[0] if rest else None)
            if not quiet:
                rows = "".join(f"<tr><td><code>{html.escape(m['model_id'])}</code></td><td>"
                               f"{html.escape(str(m.get('display_name', '')))}</td><td>{html.escape(str(m.get('kind', '')))}"
                               f"</td></tr>" for m in models)
                display(HTML(f"<table><tr><th>model_id</th><th>name</th><th>output</th></tr>{rows}</table>"))
            return None if not quiet else models
        if name == "jobs":
            limit = int(rest[0]) if rest and rest[0].isdigit() else 20
            display(HTML(_jobs_table(api.jobs(limit=limit))))
            return None
        if name == "sim":
            return self._sim(rest)
        if not rest:
            raise UsageError(f"%runcomfy {name} needs an argument: %runcomfy {name} "
                             f"{'MODEL' if name in ('form', 'info') else 'REQUEST_ID'}")
        if name == "info":
            from .model_info import info

            return info(rest[0])
        if name == "form":
            from .widgets import form

            return form(rest[0])
        if name == "attach":
            job = api.attach(rest[0])
            if not quiet:
                display(job)
            job._suppress_display_at = self.shell.execution_count if self.shell else None  # type: ignore[attr-defined]
            return job
        if name == "cancel":
            job = api.attach(rest[0])
            cancelled = job.cancel()
            print(f"{rest[0]}: {'cancelled' if cancelled else job.cancel_note or 'already ' + job.status}")
            return None
        raise UsageError(f"unknown subcommand {name}")

    def _sim(self, rest: list[str]) -> None:
        from . import sim

        if rest[:1] == ["on"]:
            server = sim.start()
            print(f"RunComfy simulator running at {server.base_url} — rc.Client(), %runcomfy and forms now use it "
                  "(no token needed, no credits spent). `%runcomfy sim off` to stop.")
        elif rest[:1] == ["off"]:
            sim.stop()
            print("Simulator stopped; clients made from now on use your RunComfy token.")
        else:
            raise UsageError("Use `%runcomfy sim on` or `%runcomfy sim off`")


def _jobs_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<i>No jobs in the journal yet.</i>"
    body = "".join(
        f"<tr><td><code>{html.escape(r['request_id'] or '—')}</code></td><td>{html.escape(r['model_id'])}</td>"
        f"<td>{html.escape(r['status'])}</td><td>{len(r['outputs'])}</td>"
        f"<td>{'simulator' if r['simulator'] else html.escape(r['base_url'])}</td></tr>" for r in rows)
    return f"<table><tr><th>request_id</th><th>model</th><th>status</th><th>outputs</th><th>where</th></tr>{body}</table>"
