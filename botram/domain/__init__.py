"""Business rules, free of Flask request objects and templates. One module per rule set."""


class DomainError(Exception):
    """A rule was broken. `message` is safe to show; `field` names the form field.

    Rules raise their message as Indonesian source text marked with `flask_babel.lazy_gettext` (`_l`), so the
    domain needs no request: `message` is translated when it is read, in the language of the request that
    reads it (Indonesian outside a request). A plain `str` is shown as it is.

    `errors` lists every (field, message) found when a rule set checks all fields before refusing
    (a form then shows all its mistakes at once); it is [(field, message)] otherwise."""

    status = 422

    def __init__(self, message, field: str | None = None, status: int | None = None,
                 errors: list[tuple[str | None, object]] | None = None):
        super().__init__(message)
        self._message = message
        self.field = field
        self._errors = errors or [(field, message)]
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self._message)

    @property
    def errors(self) -> list[tuple[str | None, str]]:
        return [(field, str(message)) for field, message in self._errors]

    @errors.setter
    def errors(self, pairs: list[tuple[str | None, object]]) -> None:
        self._errors = list(pairs)

    def __str__(self) -> str:
        return self.message


class Problems:
    """Collects refusals so that every field is checked before one error is raised for all of them.

        problems = Problems()
        with problems:
            name = check_name(...)     # a DomainError here is kept, and the next block still runs
        problems.raise_any()           # one DomainError whose `errors` holds them all
    """

    def __init__(self):
        self.found: list[DomainError] = []

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, DomainError) and not isinstance(exc, NotFound):
            self.found.append(exc)
            return True
        return False

    def raise_any(self) -> None:
        if self.found:
            first = self.found[0]
            raise DomainError(first._message, field=first.field,
                              status=409 if any(e.status == 409 for e in self.found) else first.status,
                              errors=[pair for e in self.found for pair in e._errors])


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
