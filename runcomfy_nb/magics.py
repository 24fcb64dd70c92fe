"""`%runcomfy` and `%%runcomfy`: parse (runcomfy_nb.magic_syntax), then call the same public API a script would."""

from __future__ import annotations

import difflib
import html
import textwrap
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import HTML, display
from traitlets import Bool, Enum, Float, Int, Unicode, default, observe

from .config import SETTINGS_HELP, settings
from .errors import brief
from .magic_syntax import _OPTIONS_WITH_VALUE as _OPTIONS_WITH_VALUE
from .magic_syntax import SUBCOMMANDS as SUBCOMMANDS
from .magic_syntax import Expander, Token, _value, parse_body, parse_pairs, tokenize
from .magic_syntax import convert as convert
from .textview import PROGRESS_MODES

__all__ = ["SUBCOMMANDS", "RunComfyMagics", "Token", "convert", "parse_body", "parse_pairs", "short_error", "tokenize"]


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

    # %config traits that forward to runcomfy_nb.settings (the one place settings live) and start from it
    autosave_dir = Unicode(None, allow_none=True, help=SETTINGS_HELP["autosave_dir"]).tag(config=True)
    save_dir = Unicode(help=SETTINGS_HELP["save_dir"]).tag(config=True)
    validate = Bool(help=SETTINGS_HELP["validate"]).tag(config=True)
    debug = Bool(help=SETTINGS_HELP["debug"]).tag(config=True)
    max_in_flight = Int(help=SETTINGS_HELP["max_in_flight"]).tag(config=True)
    max_in_flight_total = Int(help=SETTINGS_HELP["max_in_flight_total"]).tag(config=True)
    budget_usd = Float(None, allow_none=True, help=SETTINGS_HELP["budget_usd"]).tag(config=True)
    progress = Enum(PROGRESS_MODES, help=SETTINGS_HELP["progress"]).tag(config=True)  # a bad mode is refused here

    @default("autosave_dir")
    def _default_autosave_dir(self) -> str | None:
        return settings.autosave_dir

    @default("save_dir")
    def _default_save_dir(self) -> str:
        return settings.save_dir

    @default("validate")
    def _default_validate(self) -> bool:
        return settings.validate

    @default("debug")
    def _default_debug(self) -> bool:
        return settings.debug

    @default("max_in_flight")
    def _default_max_in_flight(self) -> int:
        return settings.max_in_flight

    @default("max_in_flight_total")
    def _default_max_in_flight_total(self) -> int:
        return settings.max_in_flight_total

    @default("budget_usd")
    def _default_budget_usd(self) -> float | None:
        return settings.budget_usd

    @default("progress")
    def _default_progress(self) -> str:
        return settings.progress

    @observe("autosave_dir", "save_dir", "validate", "debug", "max_in_flight", "max_in_flight_total", "budget_usd",
             "progress")
    def _to_settings(self, change: dict[str, Any]) -> None:
        setattr(settings, change["name"], change["new"])

    @magic_arguments()
    @argument("target", nargs="?", help="A model id (e.g. wan-ai/wan-2-5/text-to-image) or a subcommand: "
              "models [SEARCH] | info MODEL | form MODEL | jobs [N] | attach ID | cancel ID | sim on|off | "
              "sweep MODEL key=[a, b] seed=1..4 [--max-in-flight N] [--fresh]")
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
    @argument("--fresh", action="store_true", help="Always send, even when an identical earlier result could be reused.")
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
          %runcomfy sweep blackforestlabs/flux-1-kontext/pro/edit prompt=["winter","night"] seed=1..4 image_url=@photo
          %%runcomfy community/wan-2-1/fusionx/image-to-video -o clip
          600_prompt: a slow dolly zoom
            over a rainy street
          608_image: https://example.com/still.png

        In a %%runcomfy body each line is `key: value`; a value continues only on indented lines (`key:` alone
        starts an indented block); anything else is an error. Body values are literal (no $ or {} expansion).
        Mistakes (unknown field or model, a value out of range) stop before anything is sent and show one
        short message; `%xmode Verbose` or `rc.settings.debug = True` show the full traceback.

        Sweeps: `%runcomfy sweep MODEL key=[a, b] seed=1..4 …` (or `%%runcomfy sweep MODEL` with a `key: value`
        body) sends one job per combination: an unquoted JSON list or `A..B` (integers) is an axis, anything else
        is one value as above (`key=@name` with `rc.vary([...])` sweeps an array-typed field). Options:
        --max-in-flight N, --fresh (send even when identical results exist), -o NAME, --wait, --timeout S,
        --no-validate. Shows a live grid; returns the Sweep.
        """
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
        first, _, after = line.strip().partition(" ")
        if first == "sweep":  # `%runcomfy sweep …` / `%%runcomfy sweep …`: its own grammar (axes, ranges)
            from .sweep_magic import sweep_magic

            return sweep_magic(after, cell, self.shell)
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
            raise UsageError(f"{brief(target)} is neither a model id (owner/model/…) nor a subcommand "
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
        from .deferred_imports import deferred
        from .errors import ConfigError
        from .widgets import shown_in_this_cell

        with deferred():  # the first call in a kernel imports httpx and jsonschema
            from . import _shortcuts as api
            from . import schemas

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
                from ._media import prepare_media

                full = schemas.apply_defaults(raw, inputs)
                defaults = {k: p.get("default") for k, p in normal["properties"].items()}
                schemas.validate_inputs(raw, prepare_media(schemas.media_fields(raw), full, defaults))
            raise
        job = client.submit(model_id, inputs, validate=validate, fresh=args.fresh)
        if args.out and self.shell is not None:
            self.shell.user_ns[args.out] = job
        if not quiet:
            display(job)
        shown_in_this_cell(job)
        if args.wait:
            job.wait(args.timeout)
        return job

    def _subcommand(self, name: str, rest: list[str], quiet: bool) -> Any:
        from . import _shortcuts as api
        from .widgets import shown_in_this_cell

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
        if name == "history":  # %runcomfy history [MODEL] [TEXT…]: the paged gallery of earlier runs
            from .historyview import history

            return history(rest[0] if rest else None, " ".join(rest[1:]) or None)
        if name == "sim":
            return self._sim(rest)
        if not rest:
            raise UsageError(f"%runcomfy {name} needs an argument: %runcomfy {name} "
                             f"{'MODEL' if name in ('form', 'info') else 'REQUEST_ID'}")
        if name == "info":
            from .model_info import info

            return info(rest[0])
        if name == "form":
            from .modelform import form

            return form(rest[0])
        if name == "attach":
            job = api.attach(rest[0])
            if not quiet:
                display(job)
            shown_in_this_cell(job)
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
