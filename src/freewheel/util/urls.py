"""URLs as freewheel shows them: never with credentials."""

from __future__ import annotations

import re

# The user information of a URL: from "://" to the last "@" before the path.
_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def strip_credentials(text: str) -> str:
    """Return *text* with the user name and password taken out of every URL in it.

    Credentials ride in index URLs, and a user name may be a token. Every
    URL freewheel prints or writes (output files, messages, logs, the
    cache) goes through here, so none reaches a file someone commits or a
    log someone shares; they stay in the user's configuration.
    """
    return _USERINFO.sub("", text)
