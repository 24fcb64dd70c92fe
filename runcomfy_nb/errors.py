"""Typed exceptions. Every error about a job carries its request_id; none ever carries the token."""

from __future__ import annotations

from typing import Any


def brief(value: Any, limit: int = 80) -> str:
    """A value as it appears in an error message: repr, cut to `limit`; a data: URI only by its head and size."""
    if isinstance(value, str) and value.startswith("data:"):
        value = value[:40] + f"…<{len(value)} chars>"
    elif isinstance(value, str | bytes) and len(value) > limit:
        value = value[:limit]  # no need to repr megabytes to show eighty characters
    try:
        text = repr(value)
    except Exception:  # a broken __repr__, or nesting too deep to print (RecursionError)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RunComfyError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str, *, request_id: str | None = None, **details: Any) -> None:
        self.request_id = request_id
        self.details = details
        if request_id and request_id not in message:
            message = f"{message} (request_id={request_id})"
        super().__init__(message)

    @property
    def message(self) -> str:
        """The message (the same as str(error))."""
        return str(self)


class ConfigError(RunComfyError):
    """No token or no base URL could be found (and no simulator is running)."""


class InputValidationError(RunComfyError, ValueError):
    """An input broke the model's schema; raised before anything is sent."""

    def __init__(self, message: str, *, field: str | None, rule: str, value: Any,
                 errors: list[InputValidationError] | None = None) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        self.errors = errors or [self]
        super().__init__(message)


class MediaInputError(InputValidationError):
    """A media input is not a usable URL or is too large to send inline."""


class APIError(RunComfyError):
    """The API answered with an error."""

    def __init__(self, message: str, *, status_code: int | None = None, error_code: int | None = None,
                 request_id: str | None = None, body: Any = None) -> None:
        self.status_code = status_code
        self.error_code = error_code
        self.body = body
        super().__init__(message, request_id=request_id)


class AuthError(APIError):
    """Token missing, expired, revoked or refused (400004, 401/403)."""


class NotFoundError(APIError):
    """Unknown model or unknown/expired request_id (400001, 404001, 404)."""


class ServerValidationError(APIError):
    """The server refused the inputs (422 / 422001)."""


class InsufficientBalanceError(APIError):
    """The account cannot pay for the job (400002)."""


class RateLimitedError(APIError):
    """429 after the retries ran out."""


class ServerError(APIError):
    """5xx, malformed answers or transport failures after the retries ran out."""


class SubmitUncertainError(ServerError):
    """The submit may have reached the server but nothing proves it was refused; it is not retried (double
    billing). `window` is (first byte may have been sent, gave up), as epoch seconds, to find it on the dashboard."""

    def __init__(self, message: str, *, window: tuple[float, float] | None = None, **kwargs: Any) -> None:
        self.window = window
        super().__init__(message, **kwargs)


class JobFailedError(RunComfyError):
    """The job ended as failed; `.error` is what the API said."""

    def __init__(self, message: str, *, request_id: str, error: Any = None) -> None:
        self.error = error
        super().__init__(message, request_id=request_id)


class JobCancelledError(RunComfyError):
    """The job was cancelled before it produced outputs."""


class JobTimeoutError(RunComfyError, TimeoutError):
    """A wait reached its deadline; the job itself goes on and can be waited on again."""


class OutputExpiredError(RunComfyError):
    """An output URL no longer answers (results are kept for a limited time): enable auto-save."""
