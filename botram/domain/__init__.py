"""Business rules, free of Flask request objects and templates. One module per rule set."""


class DomainError(Exception):
    """A rule was broken. `message` is Indonesian and safe to show; `field` names the form field."""

    status = 422

    def __init__(self, message: str, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
