"""BOTRAM: pop-up one-stop public service days for Bekasi Regency."""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

from . import config as config_module
from . import sqlite_tuning  # noqa: F401  (registers engine hooks once)
from .extensions import babel, csrf, db, htmx, login_manager, migrate

BLUEPRINTS = (
    "auth", "home", "admin", "events", "reception", "desk", "board", "public", "api",
    "sponsors", "reports", "survey", "field", "schedule", "kiosk", "booking",
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The application factory: defaults, then instance/config.py if present, then `config`."""
    app = Flask(__name__, instance_relative_config=True)
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("BOTRAM_INSTANCE_PATH")
    if instance_path:
        app.instance_path = os.path.abspath(instance_path)
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.from_mapping(config_module.defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.secret_key(app.instance_path)
    _tune_engine(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)

    from . import i18n, logs, security, web

    logs.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    security.init_app(app)
    web.init_app(app)

    from importlib import import_module

    for name in BLUEPRINTS:
        module = import_module(f".blueprints.{name}", __name__)
        app.register_blueprint(module.bp)

    from . import cli

    cli.init_app(app)

    return app


def _tune_engine(app: Flask) -> None:
    """SQLite: WAL and a busy timeout so desks and reception can write at once without 'database is locked'."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if uri.startswith("sqlite"):
        options["pool_pre_ping"] = False  # a local file has no connection to lose; the ping doubled every query
        options.setdefault("connect_args", {})
        options["connect_args"].setdefault("timeout", 30)
        options["connect_args"].setdefault("check_same_thread", False)
    else:
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

