"""Who may call the API: the browser session or a device's bearer token, and role checks that answer JSON.

CSRF rule (the API description in spec.py): a write authenticated by the session cookie needs the `X-CSRFToken` header,
exactly as the pages do (Flask-WTF's own check runs). A request authenticated by `Authorization: Bearer <token>`
needs none: a device has no cookie, and no other site can make a browser send that header. An anonymous write
carries no credential a forged request could abuse, so it is checked by its view's own rules (a survey is
public, a ticket needs a role and gets 401).

A bearer token that is unknown, revoked or belongs to a deactivated user is refused with 401 on every /api/v1
route, public ones included, so a device learns at once that it must be re-enrolled.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import csrf
from ...permissions import Capability
from .errors import ApiError

def _bearer_token() -> str | None:
    """The raw token of an `Authorization: Bearer ...` header (scheme in any case), else None."""
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else None


def is_token_request() -> bool:
    """True when the caller was authenticated by a device token, not by the session cookie."""
    return bool(g.get("token_auth"))


def _invalid_token() -> ApiError:
    return ApiError(401, _("Token perangkat tidak dikenal, sudah dicabut, atau penggunanya nonaktif."),
                    headers={"WWW-Authenticate": 'Bearer realm="botram", error="invalid_token"'})


def _check_credentials() -> None:
    """Runs before every API view: refuse a bad bearer token, then require CSRF for cookie-authenticated writes."""
    token = _bearer_token()
    if token is not None:
        authenticated = current_user.is_authenticated  # runs Flask-Login's loaders (session first, then token)
        if not is_token_request():
            # Either the token is no good, or a session cookie came along and took precedence.
            from ...domain.tokens import user_for_token

            if not authenticated or user_for_token(token) is None:
                raise _invalid_token()
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if current_user.is_authenticated and not is_token_request():
        csrf.protect()  # raises CSRFError (400 JSON through the blueprint's handler)


def protect_api_blueprint(bp: Blueprint) -> Blueprint:
    """Wire the API's credential and CSRF rules into `bp` (the API blueprint, or one a test builds)."""
    csrf.exempt(bp)  # the app-wide check would refuse every device write; _check_credentials replaces it
    bp.before_request(_check_credentials)
    bp.after_request(_vary_by_caller)
    return bp


def _vary_by_caller(response):
    """Answers differ by caller (drafts for planners): no shared cache may hand one caller's answer to another."""
    response.vary.add("Authorization")
    response.vary.add("Cookie")
    return response


def api_requires(capability: Capability) -> Callable:
    """Allow only callers holding `capability` (botram.permissions): 401 JSON for anonymous callers, 403 JSON
    for others."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise ApiError(401)
            if not capability(current_user):
                raise ApiError(403)
            return view(*args, **kwargs)

        wrapped.capability = capability  # read by the authorization tests and the API description
        wrapped.allowed_roles = capability.roles
        wrapped.api_public = False
        return wrapped

    return decorator


def api_public(view: Callable) -> Callable:
    """Mark a view as open to anonymous callers (it may still show more to signed-in staff).

    Only a marker: every API view is either `api_public` or behind `api_requires`, and the OpenAPI test
    checks that the document says the same.
    """
    view.api_public = True
    view.allowed_roles = None
    return view
