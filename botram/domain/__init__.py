"""Business rules, free of Flask request objects and templates. One module per rule set."""


class DomainError(Exception):
    """A rule was broken. `message` is safe to show; `field` names the form field.

    Rules raise their message as Indonesian source text marked with `flask_babel.lazy_gettext` (`_l`), so the
    domain needs no request: `message` is translated when it is read, in the language of the request that
    reads it (Indonesian outside a request). A plain `str` is shown as it is."""

    status = 422

    def __init__(self, message, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self._message = message
        self.field = field
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self._message)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
