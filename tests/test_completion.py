"""Tab completion through IPython's real completer (the same call a Jupyter front end's complete_request makes)."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.testing import globalipapp
from IPython.testing.globalipapp import start_ipython

WAN = "wan-ai/wan-2-5/text-to-image"
DREAMINA = "bytedance/dreamina-4-0/text-to-image"


@pytest.fixture(scope="module")
def ip() -> Any:
    shell = start_ipython() or globalipapp.get_ipython()  # one global shell per process
    shell.run_line_magic("load_ext", "runcomfy_nb")
    return shell


def complete(ip: Any, text: str) -> list[str]:
    """What Tab offers at the end of `text`, each as the full text it would produce."""
    with provisionalcompleter():
        found = list(ip.Completer.completions(text, len(text)))
    return [text[:c.start] + c.text for c in found]


def test_subcommands_and_model_ids(ip: Any) -> None:
    assert "%runcomfy info" in complete(ip, "%runcomfy in")
    assert complete(ip, "%runcomfy wan") == [f"%runcomfy {WAN}"]
    assert complete(ip, "%runcomfy info ideo") == ["%runcomfy info ideogram/ideogram-v3/reframe"]
    assert complete(ip, "%runcomfy sim o") == ["%runcomfy sim on", "%runcomfy sim off"]
    assert complete(ip, "job = %runcomfy bytedance/dream") == [f"job = %runcomfy {DREAMINA}"]


def test_request_ids_from_the_journal_for_attach_and_cancel(ip: Any, client: Any) -> None:
    job = client.submit(WAN, prompt="to attach later")
    assert complete(ip, f"%runcomfy attach {job.request_id[:6]}") == [f"%runcomfy attach {job.request_id}"]
    assert complete(ip, f"%runcomfy cancel {job.request_id[:6]}") == [f"%runcomfy cancel {job.request_id}"]


def test_field_names_after_a_model_id(ip: Any) -> None:
    assert complete(ip, f"%runcomfy {WAN} asp") == [f"%runcomfy {WAN} aspect_ratio="]
    assert complete(ip, f'%runcomfy {DREAMINA} prompt="a b c" wid') == [f'%runcomfy {DREAMINA} prompt="a b c" width×height=']
    assert complete(ip, "%runcomfy community/wan-2-1/fusionx/image-to-video 598_s") == [
        "%runcomfy community/wan-2-1/fusionx/image-to-video 598_seed=",
        "%runcomfy community/wan-2-1/fusionx/image-to-video 598_steps=",
        "%runcomfy community/wan-2-1/fusionx/image-to-video 598_shift="]
    assert complete(ip, f"%runcomfy {WAN} --wa") == [f"%runcomfy {WAN} --wait"]


def test_enum_and_boolean_values(ip: Any) -> None:
    from runcomfy_nb import schemas

    choices = schemas.shipped_schema(WAN)["properties"]["aspect_ratio"]["enum"]
    assert complete(ip, f"%runcomfy {WAN} aspect_ratio=") == [f'%runcomfy {WAN} aspect_ratio="{c}"' for c in choices]
    assert complete(ip, f'%runcomfy {WAN} aspect_ratio="1024:10') == [f'%runcomfy {WAN} aspect_ratio="1024:1024 (1:1)"']
    assert complete(ip, f"%runcomfy {DREAMINA} force_single=t") == [f"%runcomfy {DREAMINA} force_single=true"]


def test_cell_magic_body(ip: Any) -> None:
    head = f"%%runcomfy {DREAMINA}\nprompt: a crane\n"
    assert complete(ip, head + "wi") == [head + "width×height: "]
    assert complete(ip, head + "width×height: 2304") == [head + "width×height: 2304x1728(4:3)"]
    assert not any("width×height" in c for c in complete(ip, head + "  wi"))  # a continuation line is free text


def test_the_sweep_subcommand_completes_its_model_and_fields(ip: Any) -> None:
    assert "%runcomfy sweep" in complete(ip, "%runcomfy sw")
    assert complete(ip, "%runcomfy sweep wan") == [f"%runcomfy sweep {WAN}"]
    assert complete(ip, f"%runcomfy sweep {WAN} asp") == [f"%runcomfy sweep {WAN} aspect_ratio="]
    assert complete(ip, f"%%runcomfy sweep {WAN} -o grid\nasp") == [f"%%runcomfy sweep {WAN} -o grid\naspect_ratio: "]


def test_python_calls(ip: Any) -> None:
    assert complete(ip, 'rc.submit("wan') == [f'rc.submit("{WAN}']
    assert complete(ip, 'rc.form("ideogram/') == ['rc.form("ideogram/ideogram-v3/reframe']
    assert complete(ip, f'client.submit("{WAN}", neg') == [f'client.submit("{WAN}", negative_prompt=']
    assert complete(ip, f'rc.submit("{WAN}", prompt="x", aspect_ratio="810') == [
        f'rc.submit("{WAN}", prompt="x", aspect_ratio="810:1440 (9:16)']


def test_other_code_is_left_to_ipython(ip: Any) -> None:
    ip.user_ns["fox_count"] = 3
    assert "fox_count" in complete(ip, "fox_c")
