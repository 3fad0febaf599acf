"""Every failure leaves the API in OpenAI's error shape, with one status code.

    {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}

Client errors carry their own message; anything else is logged with its
traceback and the client gets a generic message with the request id.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from serving.errors import AuthenticationError, ServingError

log = structlog.get_logger("serving")


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into OpenAI error bodies."""
    app.add_exception_handler(ServingError, _serving_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def error_response(
    status: int,
    message: str,
    error_type: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    # A message may quote the client's own text, which JSON lets hold a lone
    # UTF-16 surrogate that no UTF-8 body can carry: such a character is
    # written as its escape instead.
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    body = {"message": message, "type": error_type, "param": param, "code": code}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _serving_error(request: Request, exc: ServingError) -> JSONResponse:
    if not exc.public:
        return await _unexpected_error(request, exc)
    return response_for(exc)


def response_for(exc: ServingError) -> JSONResponse:
    """The OpenAI error body of an error whose message is meant for the client."""
    headers = {}
    if exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="yonca"'
    return error_response(
        exc.status_code,
        exc.message,
        exc.error_type,
        param=exc.param,
        code=exc.code,
        headers=headers or None,
    )


async def _validation_error(request: Request, exc: RequestValidationError):
    message, param = describe_validation_error(exc.errors())
    return error_response(
        400, message, "invalid_request_error", param=param, code="invalid_request"
    )


def describe_validation_error(errors) -> tuple[str, str | None]:
    """One sentence naming the first wrong field and what it should be."""
    if not errors:
        return "the request is invalid; send a JSON object", None
    error = errors[0]
    path = [part for part in error.get("loc", ()) if part != "body"]
    param = _param_name(path)
    kind = error.get("type", "")

    if kind == "json_invalid":
        return (
            "the request body is not valid JSON; send a JSON object with "
            "Content-Type: application/json",
            None,
        )
    if not path:
        return "the request body must be a JSON object of request parameters", None
    if kind == "extra_forbidden":
        return (
            f"parameter '{param}' is not supported by this server; remove it",
            param,
        )
    if kind == "missing":
        return f"parameter '{param}' is required", param
    return f"invalid value for '{param}': {error.get('msg', 'wrong type')}", param


def _param_name(path) -> str | None:
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part in ("str", "list[TextPart]", "list[str]", "function-after"):
            continue  # pydantic's union branch labels mean nothing to a client
        else:
            name += f".{part}" if name else str(part)
    return name or None


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    path = _shortened(request.url.path)
    if exc.status_code == 404:
        message = f"no route {request.method} {path}; see /docs"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {path}"
    else:
        message = str(exc.detail)
    return error_response(
        exc.status_code,
        message,
        "invalid_request_error",
        headers=getattr(exc, "headers", None),
    )


def _shortened(path: str, limit: int = 200) -> str:
    """A path short enough to quote back: a client's long URL is not echoed whole."""
    return path if len(path) <= limit else f"{path[:limit]}…"


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = request.scope.get("state", {}).get("request_id")
    log.exception("http.unexpected_error", request_id=request_id, error=repr(exc))
    return error_response(
        500,
        f"the server failed to answer this request (request id {request_id}); "
        "retry, and report the request id if it keeps failing",
        "server_error",
    )
