"""How a view goes into a notebook cell: the live widget, then a static HTML copy that stays in the saved file.

Shared by the views in widgets.py (JobView, ModelForm, history) and sweepview.py (SweepView, CompareView).
"""

from __future__ import annotations

import contextvars
import functools
import weakref
from typing import Any

from IPython.display import DisplayHandle, display

from .shared_module import SharedModuleWidget


class ViewWithCopy(SharedModuleWidget):
    """Displays itself, then `panel` (when set), then a static copy (`_fallback_html`) under one display_id.

    Every display of one view (`job` shown in two cells) shares that display_id, so one update refreshes every
    copy: with a handle per display, the copies made before the last one stayed at the state they were shown in
    ("in queue" for ever in the saved notebook).
    """

    _fallback_handle: Any = None
    panel: Any = None  # an ipywidgets Output for what the view's buttons open (the sweep's forms), or None

    def _fallback_html(self) -> str:
        raise NotImplementedError

    def _fallback_text(self) -> str:
        """The copy as plain text, for text-only clients (jupyter console, nbconvert --to markdown)."""
        return type(self).__name__

    def _fallback_bundle(self) -> dict[str, str]:
        return {"text/html": self._fallback_html(), "text/plain": self._fallback_text()}

    def _ipython_display_(self) -> None:
        bundle = self._repr_mimebundle_()  # not display(self): that would come back here
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        # Where widgets are not rendered (an untrusted notebook, GitHub, a text front end) the text/plain of the
        # view is shown instead: ipywidgets' "<runcomfy_nb.widgets.JobView object at 0x…>" was noise next to the
        # static copy that follows, which says it all.
        display({**(data or {}), "text/plain": ""}, metadata=metadata, raw=True)
        if self.panel is not None:
            display(self.panel)
        if self._fallback_handle is None:
            self._fallback_handle = DisplayHandle()
        self._fallback_handle.display(self._fallback_bundle(), raw=True)

    def _refresh_fallback(self) -> None:
        if self._fallback_handle is None:
            return
        # Background tasks carry the context of the cell that started them, so ipykernel would send the update
        # as a message of that (long finished) cell, which nbclient/nbconvert ignore. In an empty context it goes
        # out under the kernel's current parent; JupyterLab routes display updates by display_id either way.
        update = functools.partial(self._fallback_handle.update, self._fallback_bundle(), raw=True)
        contextvars.Context().run(update)


class ShownInCell:
    """Remembers which cell displayed a thing (a job, a sweep), so that cell's result does not show it again."""

    def __init__(self) -> None:
        self._cells: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def mark(self, thing: Any) -> None:
        """Say that the current cell displayed `thing` already."""
        count = _execution_count()
        if count is not None:
            self._cells[thing] = count

    def marked(self, thing: Any) -> bool:
        """Whether the current cell displayed `thing` already (the magic did, or `;` hid it)."""
        count = _execution_count()
        return count is not None and self._cells.get(thing) == count


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else shell.execution_count
