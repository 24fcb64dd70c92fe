"""How big is a saved notebook of N image jobs and one video, today and with the chosen fixes? Prints figures.

Executes a notebook headless (nbclient, a real kernel, the in-kernel simulator, widget state stored as JupyterLab
would), saves it, and measures: file size, widget state, the ESM/CSS copies in it, the static copies. Then it
applies, to that same saved file, exactly the changes the chosen approach makes (docs/lasting-results.md):
  1. shared module: each view's `_esm`/`_css` replaced by the stub and a reference to one ModuleHost model, and
     the views' Layout models replaced by one shared Layout;
  2. thumbnails: each output gets a real thumbnail (runcomfy_nb.thumbnails, from the auto-saved local copy) in
     its widget state and in its static copy (where the static copy's <img src=URL> becomes the data: URI).
and prints the projected size. Usage: python scripts/measure_saved_notebook.py [--images 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WAN = "wan-ai/wan-2-5/text-to-image"
I2V = "community/wan-2-1/fusionx/image-to-video"
STATE = "application/vnd.jupyter.widget-state+json"


def build(images: int) -> object:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = ["%load_ext runcomfy_nb\nimport runcomfy_nb as rc\nrc.sim.start(time_scale=0.05)\n"
             "rc.settings.autosave_dir = 'runcomfy_outputs'"]
    cells += [f'j{i} = %runcomfy {WAN} prompt="a red fox at dawn, study {i}" '
              f'aspect_ratio="1024:1024 (1:1)" --wait' for i in range(images)]
    cells.append(f'clip = %runcomfy {I2V} 608_image={{j0.outputs[0].url}} 600_prompt="the fox turns its head" '
                 '602_widthx602_height="480x480 (1:1)" 602_num_frames=81 609_frame_rate=16 --wait')
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def sizes(path: Path) -> dict[str, int]:
    raw = path.read_bytes()
    nb = json.loads(raw)
    state = nb["metadata"].get("widgets", {}).get(STATE, {}).get("state", {})
    esm_css = sum(len(json.dumps(m["state"].get(k, ""))) for m in state.values() for k in ("_esm", "_css", "code", "css"))
    static = sum(len(json.dumps(o["data"]["text/html"])) for c in nb["cells"] for o in c.get("outputs", [])
                 if "rcnb-static" in str(o.get("data", {}).get("text/html", "")))
    return {"file": len(raw), "widget_state": len(json.dumps(state, indent=1)), "models": len(state),
            "esm_css_copies": esm_css, "static_copies": static}


def apply_fixes(path: Path, workdir: Path, out: Path) -> None:
    from runcomfy_nb import thumbnails
    from runcomfy_nb.shared_module import STUB_ESM

    nb = json.loads(path.read_text())
    state = nb["metadata"]["widgets"][STATE]["state"]
    views = {k: m for k, m in state.items() if m["state"].get("_anywidget_id", "").startswith("runcomfy_nb.")}
    host_id = "0" * 32
    first = next(iter(views.values()))["state"]
    host = copy.deepcopy(first)
    host.update({"code": first["_esm"], "css": first.get("_css", ""), "digest": "0" * 16,
                 "_esm": "export default { render() {} };", "_anywidget_id": "runcomfy_nb.shared_module.ModuleHost"})
    for key in list(host):
        if key not in ("code", "css", "digest", "_esm", "_anywidget_id") and not key.startswith(("_model", "_view", "_dom")):
            host.pop(key)
    thumbs: dict[str, dict] = {}
    shared_layout = None
    for model in views.values():
        st = model["state"]
        layout = st.get("layout", "").replace("IPY_MODEL_", "")
        if shared_layout is None:
            shared_layout = layout
        elif layout in state:
            del state[layout]
        st["layout"] = f"IPY_MODEL_{shared_layout}"
        st["_esm"] = STUB_ESM
        st.pop("_css", None)
        st["_host"] = f"IPY_MODEL_{host_id}"
        for output in st.get("outputs", []):
            local = output.get("saved_path")
            if not local:
                continue
            file = (workdir / local) if not Path(local).is_absolute() else Path(local)
            if output["kind"] == "image":
                thumbs[output["url"]] = thumbnails.image_thumbnail(file.read_bytes()).to_dict()
            elif output["kind"] == "video":
                poster = thumbnails.video_poster(file)
                thumbs[output["url"]] = {**(poster.thumbnail.to_dict() if poster.thumbnail else {}),
                                         "duration": poster.duration}
            output["thumb"] = thumbs[output["url"]]
    state[host_id] = {"model_name": "AnyModel", "model_module": "anywidget",
                      "model_module_version": first.get("_model_module_version", ""), "state": host}
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            html = o.get("data", {}).get("text/html")
            if not html or "rcnb-static" not in str(html):
                continue
            text = "".join(html) if isinstance(html, list) else html
            for url, thumb in thumbs.items():
                if "src" in thumb:
                    text = text.replace(f'src="{url}"', f'src="{thumb["src"]}"', 1)
                    text = re.sub(r'<video src="[^"]*"', f'<video poster="{thumb["src"]}"', text, count=1) \
                        if "duration" in thumb and url in text else text
            o["data"]["text/html"] = text
    out.write_text(json.dumps(nb, indent=1, ensure_ascii=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="write the notebooks here instead of a temporary folder")
    args = parser.parse_args()
    import nbformat
    from nbclient import NotebookClient

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="rcnb-measure-"))
    workdir.mkdir(parents=True, exist_ok=True)
    nb = build(args.images)
    print(f"executing {args.images} image jobs + 1 video in {workdir} …", flush=True)
    NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    today = workdir / "today.ipynb"
    nbformat.write(nb, today)
    fixed = workdir / "shared_module_and_thumbnails.ipynb"
    apply_fixes(today, workdir, fixed)
    for label, path in (("today", today), ("shared module + thumbnails", fixed)):
        s = sizes(path)
        print(f"{label:28s} file {s['file'] / 1024:7.1f} KB | widget state {s['widget_state'] / 1024:7.1f} KB "
              f"({s['models']} models, ESM/CSS {s['esm_css_copies'] / 1024:6.1f} KB) | "
              f"static copies {s['static_copies'] / 1024:6.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
