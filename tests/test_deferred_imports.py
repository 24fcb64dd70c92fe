"""The first `%runcomfy` does not build rfc3987_syntax's grammar or load httpx's CLI, and nothing changes for
other users of jsonschema and httpx (fresh processes: these are process-wide import effects)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap


def run(script: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_first_validation_skips_the_grammar_and_the_cli_but_keeps_behaviour() -> None:
    # the grammar this defers comes with rfc3987-syntax, which the test extras install (JupyterLab brings it to users)
    assert importlib.util.find_spec("rfc3987_syntax"), "rfc3987-syntax is missing: reinstall the test extras"
    checks = '''
        import jsonschema
        checker = jsonschema.FormatChecker()
        print("iri", checker.conforms("https://example.com/ü", "iri"), checker.conforms("not an iri", "iri"))
        print("uri", checker.conforms("https://example.com/", "uri"), checker.conforms("no uri", "uri"))
    '''
    out = run('''
        import sys
        from runcomfy_nb import schemas
        from runcomfy_nb.deferred_imports import deferred
        with deferred():
            import httpx
        raw = schemas.shipped_schema("wan-ai/wan-2-5/text-to-image")
        assert schemas.check_inputs(raw, {"prompt": "x"}) == []
        loaded = [m for m in ("rfc3987_syntax", "rfc3986_validator", "httpx._main", "lark") if m in sys.modules]
        print("loaded-before", loaded)
    ''' + checks + '''
        import rfc3987_syntax
        print("real", rfc3987_syntax.is_valid_syntax.__module__.startswith("rfc3987_syntax."))
        print("cli", callable(httpx.main))
    ''')
    plain = run(checks)  # jsonschema's own answers in a process that deferred nothing (they vary by version)
    assert "loaded-before []" in out
    assert [line for line in out.splitlines() if line.startswith(("iri", "uri"))] == plain.splitlines()
    assert "real True" in out and "cli True" in out
