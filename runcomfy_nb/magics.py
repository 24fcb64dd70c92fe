"""`%runcomfy` and `%%runcomfy`: parse, then call the same public API a script would."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import HTML, display
from traitlets import Bool, Unicode, observe

SUBCOMMANDS = ("models", "form", "jobs", "attach", "cancel", "sim")
_OPTIONS_WITH_VALUE = {"-o", "--out", "--timeout"}
_KEY_LINE = re.compile(r"^([^\s:=#]+)\s*:\s?(.*)$")


class Token(str):
    """A command-line token that remembers whether it was quoted (quoted values are always strings)."""

    quoted: bool = False


def tokenize(line: str) -> list[Token]:
    """Split on spaces, keeping quoted strings and {…}/[…] JSON values (with spaces) whole."""
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        buf: list[str] = []
        quoted = False
        depth = 0
        while i < n and (depth > 0 or not line[i].isspace()):
            ch = line[i]
            if ch in "\"'" and depth == 0:
                end = i + 1
                while end < n and line[end] != ch:
                    end += 2 if line[end] == "\\" and ch == '"' else 1
                if end >= n:
                    raise UsageError(f"Unclosed quote in: {_clip(line[i:])} — close it with {ch}")
                body = line[i + 1:end]
                buf.append(_unescape(body) if ch == '"' and "\\" in body else body)
                quoted = True
                i = end + 1
                continue
            if ch in "{[":
                depth += 1
            elif ch in "}]":
                depth = max(depth - 1, 0)
            if depth > 0 and ch in "\"'":  # a string inside JSON: copy it verbatim
                end = line.find(ch, i + 1)
                while end != -1 and line[end - 1] == "\\":
                    end = line.find(ch, end + 1)
                end = n - 1 if end == -1 else end
                buf.append(line[i:end + 1])
                i = end + 1
                continue
            buf.append(ch)
            i += 1
        token = Token("".join(buf))
        token.quoted = quoted
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


def _field_types(model_id: str) -> dict[str, str]:
    from . import api
    from .schemas import normalise

    raw = api.schema(model_id)
    if not raw:
        return {}
    return {k: str(v.get("type")) for k, v in normalise(raw)["properties"].items() if isinstance(v.get("type"), str)}


def parse_pairs(tokens: list[Token], types: dict[str, str], namespace: dict[str, Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise UsageError(f"Expected key=value, got {_clip(str(token))}. Quote values with spaces: prompt=\"a red fox\"")
        if value.startswith("@") and not token.quoted:
            name = value[1:]
            if name not in namespace:
                raise UsageError(f"{key[:40]}=@{name[:40]}: no variable named {_clip(name)} in the notebook")
            inputs[key] = namespace[name]
        else:
            inputs[key] = convert(value, token.quoted, types.get(key))
    return inputs


def parse_body(body: str, types: dict[str, str]) -> dict[str, Any]:
    """A %%runcomfy cell body: a JSON object, or `key: value` lines (other lines continue the value above)."""
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
    inputs: dict[str, list[str]] = {}
    current: str | None = None
    for line in body.splitlines():
        match = _KEY_LINE.match(line)
        if match and (not types or match.group(1) in types):
            current = match.group(1)
            inputs[current] = [match.group(2)]
        elif current is not None:
            inputs[current].append(line)
        elif line.strip() and not line.strip().startswith("#"):
            raise UsageError(f"Expected `key: value` on the first line, got {_clip(line)}")
    return {k: convert("\n".join(v).strip(), False, types.get(k)) for k, v in inputs.items()}


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
              "models [SEARCH] | form MODEL | jobs [N] | attach ID | cancel ID | sim on|off")
    @argument("rest", nargs="*", help="Inputs as key=value: prompt=\"a red fox\" seed=7 force_single=true "
              "style='{\"k\": 1}'; values from the notebook with $name or {expr} (as text) or key=@name (the "
              "object itself: a PIL image, bytes, a path).")
    @argument("--wait", action="store_true", help="Block until the job ends (use `await job` to stay cancellable).")
    @argument("-o", "--out", metavar="NAME", help="Also store the Job in the notebook variable NAME.")
    @argument("--no-validate", action="store_true", help="Send the inputs without checking them against the schema.")
    @argument("--timeout", type=float, help="With --wait: give up waiting after this many seconds.")
    @line_cell_magic
    def runcomfy(self, line: str, cell: str | None = None) -> Any:
        """Submit a job and show it live; or manage jobs, forms and the offline simulator.

        Examples:
          %runcomfy wan-ai/wan-2-5/text-to-image prompt="a red fox at dawn" aspect_ratio="1024:1024 (1:1)"
          job = %runcomfy ideogram/ideogram-v3/reframe image=@photo resolution="1024:1024 (1:1)"
          %%runcomfy community/wan-2-1/fusionx/image-to-video -o clip
          600_prompt: a slow dolly zoom
            over a rainy street
          608_image: https://example.com/still.png
        """
        quiet = line.rstrip().endswith(";")
        tokens = tokenize(line.rstrip().rstrip(";"))
        options, positionals = self._split(tokens)
        args = parse_argstring(self.runcomfy, " ".join([*options, *(["_"] if positionals else [])]))
        if not positionals:
            raise UsageError("Name a model or a subcommand, e.g. `%runcomfy models` or "
                             "`%runcomfy wan-ai/wan-2-5/text-to-image prompt=\"a fox\"`. See `%runcomfy?`.")
        target, rest = str(positionals[0]), positionals[1:]
        if target in SUBCOMMANDS:
            if cell is not None:
                raise UsageError(f"%%runcomfy {target} takes no cell body; use the line magic %runcomfy {target}")
            return self._subcommand(target, [str(t) for t in rest], quiet)
        if "/" not in target:
            raise UsageError(f"{_clip(target)} is neither a model id (owner/model/…) nor a subcommand "
                             f"({', '.join(SUBCOMMANDS)})")
        return self._run_model(target, rest, cell, args, quiet)

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

    def _run_model(self, model_id: str, tokens: list[Token], cell: str | None, args: Any, quiet: bool) -> Any:
        from . import api

        types = _field_types(model_id)
        inputs = parse_body(cell, types) if cell is not None else {}
        inputs.update(parse_pairs(tokens, types, self.shell.user_ns if self.shell else {}))
        job = api.default_client().submit(model_id, inputs, validate=False if args.no_validate else None)
        if args.out and self.shell is not None:
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
                             f"{'MODEL' if name == 'form' else 'REQUEST_ID'}")
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
