"""A field laptop inside the test process: its own app on its own SQLite database (a copy of a migrated
template), next to the server the `app` fixture gives. Bundles cross between them as bytes, as they would
over the network, so the API tests exercise real checkouts and real check-ins (docs/field-sync.md)."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from botram import create_app
from botram.domain import field as field_sync
from botram.domain import queue
from botram.extensions import db
from botram.models import Desk, DeskState, User

_TEMPLATES: dict[str, Path] = {}


def _template(root: Path) -> Path:
    """A migrated, empty laptop database, made once per test session."""
    if "laptop" not in _TEMPLATES:
        path = root / "laptop-template.sqlite"
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                          "INSTANCE_PATH": str(root / "template-instance"), "SECRET_KEY": "laptop"})
        with app.app_context():
            from flask_migrate import upgrade

            from botram.domain.reference import seed_reference

            upgrade()
            seed_reference()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        _TEMPLATES["laptop"] = path
    return _TEMPLATES["laptop"]


class Laptop:
    def __init__(self, root: Path, template_root: Path, key: str):
        root.mkdir(parents=True, exist_ok=True)
        database = root / "laptop.sqlite"
        shutil.copy(_template(template_root), database)
        self.key = key
        self.app: Flask = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                                      "INSTANCE_PATH": str(root / "instance"), "SECRET_KEY": "laptop",
                                      "BOTRAM_FIELD_KEY": key})
        self.event_id: int | None = None

    @contextmanager
    def context(self):
        with self.app.app_context():
            try:
                yield
            finally:
                db.session.remove()

    def take(self, bundle: bytes) -> int:
        """Import a checkout bundle: the event is now held here; returns its id on the laptop."""
        with self.context():
            report = field_sync.import_bundle(bundle, key=self.key)
            self.event_id = report.event_id
        return self.event_id

    def serve(self, count: int) -> None:
        """`count` visitors registered and served at the first desk."""
        with self.context():
            import sqlalchemy as sa

            desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == self.event_id).order_by(Desk.number))
            officer = db.session.scalar(sa.select(User.id).order_by(User.id))
            desk_id, service_id = desk.id, desk.services[0].id
            if desk.state != DeskState.OPEN:
                queue.set_desk_state(desk_id, DeskState.OPEN, by_user_id=officer)
            for _ in range(count):
                queue.issue_visit(self.event_id, [service_id], by_user_id=officer)
                step = queue.call_next(desk_id, by_user_id=officer)
                queue.finish(step.id, outcome="done", by_user_id=officer)

    def checkin(self) -> bytes:
        with self.context():
            return field_sync.export_checkin(self.event_id, key=self.key)

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()
