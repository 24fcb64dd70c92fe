"""URL facts shared by media inputs, outputs and endpoints: control characters and loopback hosts."""

from __future__ import annotations

import ipaddress
import re

# C0 controls and DEL: a URL holding one is never sent, nor used as src/href (browsers strip some silently).
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f]")


def is_loopback_host(host: str | None) -> bool:
    """True for localhost names and loopback addresses (plain http is allowed only there)."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
