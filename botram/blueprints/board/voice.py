"""The voice-call clips, public like the board: the manifest of what can be played and the clips themselves."""
from __future__ import annotations

import hashlib
import json

from flask import Response, abort, request, url_for

from ...domain import voice
from . import bp

# A clip URL carries its version (?v=...), so a board may keep it for good; a replaced clip has a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"


@bp.route("/voice")
def voice_manifest():
    """Which clips exist (key → URL with its version) and each agency's clip key, by the name the board shows.
    A key missing here is said with the browser's speech synthesis instead."""
    clips = {key: url_for("board.voice_clip", key=key, v=version)
             for key, version in sorted(voice.clip_versions().items())}
    body = json.dumps({"clips": clips, "agencies": voice.agency_keys()}, ensure_ascii=False,
                      separators=(",", ":"))
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:20])
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.route("/voice/<key>")
def voice_clip(key: str):
    """One clip: the admin's recording if there is one, else the default file."""
    content = voice.clip_content(key)
    if content is None:
        abort(404)
    data = content.data if content.data is not None else content.path.read_bytes()
    response = Response(data, mimetype=content.content_type)
    response.set_etag(content.etag)
    # Without the current version in the URL (an old link, the admin's play button) ask again each time.
    response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == content.etag else "no-cache"
    return response.make_conditional(request)
