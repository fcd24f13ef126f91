"""The JSON API and the explorer page over one :class:`~embedkit.session.QuerySession` (FastAPI).

Every endpoint is a thin call of the session, so answers are those of the Python API and
the command line on the same model. Requests are checked before any search: a bad one gets
a JSON body ``{"error": message, "status": code}`` with a 4xx status whose message names
the problem (the unknown word, the parameter out of range, the malformed body, the limit
exceeded), never a 500 or a traceback. Bodies are bounded and must be UTF-8
(:class:`BodyGuard`); batch sizes and ``k`` are bounded by :class:`~.settings.Limits`.

Endpoints are plain functions, so uvicorn runs them on its thread pool: FAISS releases the
GIL while it searches and budgets its own threads among concurrent searches
(:func:`embedkit.vectors.index.faiss_threads`). Responses are written with :func:`json.dumps`
directly (the response models document them in the OpenAPI schema without re-validating
thousands of answers).
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations, and
# those built from the limits inside create_app must be objects, not names to look up.
import json
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import asdict
from importlib import resources
from typing import Annotated, Any, Literal, Optional, Union

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from starlette.exceptions import HTTPException

from ..errors import EmbedkitError, UnknownWordError, UsageError
from ..session import QuerySession
from ..version import __version__
from .settings import Limits

log = logging.getLogger("embedkit.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_SECURITY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The explorer page may talk to this server only: nothing is fetched from anywhere else."""


# --- errors ---------------------------------------------------------------------------------
class RequestError(Exception):
    """A bad request: answered with ``status`` and ``message`` (plus ``extra`` fields)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _short(value: Any, limit: int = 80) -> str:
    """``repr`` of a value, cut to ``limit`` characters (hostile inputs can be long)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays (and anything else) in a form :func:`json.dumps` writes."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``data`` as compact UTF-8 JSON."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_jsonable)
    return Response(body.encode("utf-8"), status_code=status, media_type="application/json", headers=headers)


def error_response(status: int, message: str, **extra: Any) -> Response:
    """The one shape of every error: ``{"error": message, "status": status, ...}``."""
    return json_response({"error": message, "status": status, **extra}, status)


def describe_validation(errors: Sequence[Any]) -> tuple[int, str]:
    """Status and one message for FastAPI's validation errors (up to three of them named)."""
    parts = []
    status = 422
    for error in list(errors)[:3]:
        kind = error.get("type", "")
        loc = [str(x) for x in error.get("loc", ())]
        where = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
        if kind == "json_invalid":
            status = 400
            reason = (error.get("ctx") or {}).get("error", "not JSON")
            parts.append(f"malformed JSON body: {reason}")
        elif kind == "missing" and loc == ["body"]:
            parts.append("the request body is missing: send a JSON object")
        elif kind == "missing":
            parts.append(f"{where}: required, but missing")
        else:
            given = error.get("input")
            shown = f" (got {_short(given)})" if isinstance(given, (str, int, float, bool)) else ""
            parts.append(f"{where}: {error.get('msg', 'invalid')}{shown}")
    more = len(errors) - len(parts)
    text = "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    return status, text or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """JSON errors for every failure: bad parameters, unknown words, unknown routes, bugs."""

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> Response:
        return error_response(exc.status, exc.message, **exc.extra)

    @app.exception_handler(UnknownWordError)
    async def unknown_word(request: Request, exc: UnknownWordError) -> Response:
        words = getattr(exc, "words", None) or [exc.word]
        if len(words) == 1:
            message = f"word {_short(words[0])} is not in the vocabulary"
        else:
            message = (
                f"{len(words)} words are not in the vocabulary: {', '.join(_short(w) for w in words[:10])}"
            )
        return error_response(404, message, unknown=list(words))

    @app.exception_handler(UsageError)
    async def usage_error(request: Request, exc: UsageError) -> Response:
        return error_response(422, str(exc))

    @app.exception_handler(EmbedkitError)
    async def embedkit_error(request: Request, exc: EmbedkitError) -> Response:
        return error_response(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        status, message = describe_validation(exc.errors())
        return error_response(status, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no endpoint {_short(request.url.path)}: see /docs"
        elif exc.status_code == 405:
            message = f"{_short(request.method)} is not allowed on {_short(request.url.path)}: see /docs"
        response = error_response(exc.status_code, message)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:  # a bug: logged, not shown
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error (logged by the server)")


class BodyGuard:
    """ASGI middleware: bodies over ``max_body`` bytes get 413, bodies and query strings
    that are not UTF-8 get 400, before the application sees them.

    The body is read whole (it is bounded) and handed on; a body that is too large is read
    and dropped up to :attr:`DRAIN` more bytes first, so that the client, still sending,
    receives the 413 instead of a reset connection.
    """

    DRAIN = 64 << 20

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._check_query(scope.get("query_string", b""))
        if problem:
            await self._reply(send, 400, problem)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and not declared.strip().isdigit():
            await self._reply(send, 400, "Content-Length is not a number")
            return
        size = int(declared) if declared is not None else 0
        if size > self.max_body and size > self.max_body + self.DRAIN:
            await self._reply(send, 413, self._too_large(size))
            return
        chunks: list[bytes] = []
        total, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total <= self.max_body:
                chunks.append(chunk)
            elif total > self.max_body + self.DRAIN:
                break
            more = message.get("more_body", False)
        if total > self.max_body:
            await self._reply(send, 413, self._too_large(max(total, size)))
            return
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = f"byte 0x{body[exc.start]:02x} at position {exc.start}"
            await self._reply(send, 400, f"the request body is not valid UTF-8 ({where})")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self, size: int) -> str:
        return f"the request body ({size:,} bytes) is larger than the limit of {self.max_body:,} (--max-body)"

    @staticmethod
    def _check_query(query: bytes) -> str | None:
        try:
            urllib.parse.unquote_to_bytes(query).decode("utf-8")
        except UnicodeDecodeError:
            return "the query string is not valid UTF-8 (percent-encode words as UTF-8)"
        return None

    @staticmethod
    async def _reply(send: Send, status: int, message: str) -> None:
        body = json.dumps({"error": message, "status": status}, separators=(",", ":")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# --- request and response bodies (the OpenAPI schema) -------------------------------------
class Answer(BaseModel):
    """One answer: a word and its score (cosine; 3CosMul's score for ``method=mul``)."""

    word: str
    score: float


class Answers(BaseModel):
    """A query (as resolved: words as the model has them) and its answers, best first."""

    query: dict[str, Any]
    answers: list[Answer]


class BatchRequest(BaseModel):
    """Many queries answered by one batched search each for analogies and for neighbours."""

    model_config = ConfigDict(extra="forbid")

    analogies: list[tuple[StrictStr, StrictStr, StrictStr]] = Field(
        default_factory=list, description="Triples [a, b, c]: words to c as b is to a."
    )
    similar: list[Union[StrictStr, list[StrictStr]]] = Field(
        default_factory=list, description="Words (or lists of positive words) whose neighbours to find."
    )
    k: StrictInt = Field(10, ge=1, description="Answers per query.")
    method: Literal["add", "mul"] = Field("add", description="Analogy method: 3CosAdd or 3CosMul.")
    restrict: Optional[StrictInt] = Field(None, ge=1, description="Search only the N most frequent words.")


class BatchItem(BaseModel):
    """One query's answers, or its error (an unknown word, named in ``unknown``)."""

    answers: Optional[list[Answer]] = None
    error: Optional[str] = None
    unknown: Optional[str] = None


class BatchAnswers(BaseModel):
    """Answers in the order of the queries."""

    k: int
    method: str
    analogies: list[BatchItem]
    similar: list[BatchItem]


class ErrorBody(BaseModel):
    """Every error: what went wrong, and the HTTP status."""

    error: str
    status: int
    unknown: Optional[list[str]] = None


def _answers(found: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"word": word, "score": score} for word, score in found]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Malformed request (not JSON, not UTF-8)"),
        (404, "A word is not in the vocabulary (named in the message and in `unknown`)"),
        (413, "Body or batch over a limit"),
        (422, "A parameter is missing, of the wrong type or out of range"),
    )
}


# --- the application --------------------------------------------------------------------------
def create_app(session: QuerySession, limits: Limits | None = None) -> FastAPI:
    """The service of ``session``: the JSON endpoints, ``/docs`` and the explorer page at ``/``."""
    limits = limits or Limits()
    vectors = session.vectors
    app = FastAPIOffline(
        title="embedkit",
        version=__version__,
        description=(
            f"Neighbours, analogies and vectors of {session.name} ({len(vectors):,} words, "
            f"{vectors.dim} dimensions). Errors are JSON `{{error, status}}` with a 4xx status."
        ),
        responses=ERRORS,
    )
    install_error_handlers(app)
    app.add_middleware(BodyGuard, max_body=limits.max_body)
    page = resources.files(__package__).joinpath("static/index.html").read_text(encoding="utf-8")

    K = Annotated[int, Query(ge=1, le=limits.max_k, description=f"Answers (1 to {limits.max_k:,}).")]
    Restrict = Annotated[Optional[int], Query(ge=1, description="Search only the N most frequent words.")]
    Method = Annotated[Literal["add", "mul"], Query(description="add: 3CosAdd; mul: 3CosMul.")]

    def check_words(words: Sequence[str], what: str, least: int = 1) -> None:
        if len(words) < least:
            raise RequestError(422, f"{what}: give at least {least} word{'s' * (least > 1)}")
        if len(words) > limits.max_words:
            raise RequestError(
                422, f"{what}: {len(words):,} words, more than the limit of {limits.max_words}"
            )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def explorer() -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_SECURITY})

    @app.get("/health", summary="Whether the service is up")
    def health() -> dict[str, Any]:
        return {"status": "ok", "words": len(vectors)}

    @app.get("/info", summary="The model: size, dimension, index, training settings; the limits")
    def info() -> Response:
        return json_response({**session.info(), "version": __version__, "limits": asdict(limits)})

    @app.get("/similar", response_model=Answers, summary="Nearest words by cosine")
    def similar(
        word: Annotated[Optional[str], Query(description="The query word, e.g. paris.")] = None,
        positive: Annotated[list[str], Query(description="More positive words (repeat the parameter).")] = [],  # noqa: B006
        negative: Annotated[list[str], Query(description="Negative words (repeat the parameter).")] = [],  # noqa: B006
        k: K = 10,
        restrict: Restrict = None,
    ) -> Response:
        """Words nearest to the sum of ``word`` and the ``positive`` words minus the ``negative`` ones."""
        pos = ([word] if word is not None else []) + list(positive)
        check_words(pos, "word or positive")
        check_words(list(negative), "negative", least=0)
        found = session.similar(pos, negative, k=k, restrict=restrict)
        query = {
            "positive": [session.resolve(w) for w in pos],
            "negative": [session.resolve(w) for w in negative],
        }
        return json_response({"query": query, "answers": _answers(found)})

    @app.get("/analogy", response_model=Answers, summary="Words that are to c as b is to a")
    def analogy(
        a: Annotated[str, Query(description="e.g. spain")],
        b: Annotated[str, Query(description="e.g. madrid")],
        c: Annotated[str, Query(description="e.g. france")],
        k: K = 10,
        method: Method = "add",
        restrict: Restrict = None,
    ) -> Response:
        """b − a + c (3CosAdd) or 3CosMul, best first; the three words are never answered."""
        found = session.analogy(a, b, c, k=k, method=method, restrict=restrict)
        query = {"a": session.resolve(a), "b": session.resolve(b), "c": session.resolve(c), "method": method}
        return json_response({"query": query, "answers": _answers(found)})

    @app.post("/batch", response_model=BatchAnswers, summary="Many analogies and neighbour queries at once")
    def batch(body: BatchRequest) -> Response:
        """Answered by one batched search for the analogies and one for the neighbours; a query
        with an unknown word gets an error of its own, the others their answers."""
        count = len(body.analogies) + len(body.similar)
        if count == 0:
            raise RequestError(422, "an empty batch: give analogies [[a, b, c], ...] and/or similar [...]")
        if count > limits.max_batch:
            raise RequestError(413, f"a batch of {count:,} queries is over the limit of {limits.max_batch:,} "
                                    "(--max-batch)")  # fmt: skip
        if body.k > limits.max_k:
            raise RequestError(422, f"k: must be from 1 to {limits.max_k:,} (got {body.k:,})")
        if count * body.k > limits.max_answers:
            raise RequestError(413, f"{count:,} queries x k {body.k:,} ask for more than "
                                    f"{limits.max_answers:,} answers: send smaller batches")  # fmt: skip
        queries = [[q] if isinstance(q, str) else q for q in body.similar]
        for number, words in enumerate(queries, start=1):
            check_words(words, f"similar query {number}")
        analogies = [list(t) for t in body.analogies]
        out: dict[str, Any] = {"k": body.k, "method": body.method}
        found_a = session.analogy_batch(analogies, body.k, body.method, body.restrict) if analogies else []
        out["analogies"] = [_batch_item(session, q, r) for q, r in zip(analogies, found_a)]
        found_s = session.similar_batch(queries, body.k, body.restrict) if queries else []
        out["similar"] = [_batch_item(session, q, r) for q, r in zip(queries, found_s)]
        return json_response(out)

    @app.get("/vector", summary="A word's vector")
    def vector(word: Annotated[str, Query(description="e.g. paris")]) -> Response:
        row = session.vector(word)
        return json_response(
            {"word": session.resolve(word), "dim": int(row.shape[0]), "vector": row.tolist()}
        )

    @app.get("/similarity", summary="Cosine similarity of two words")
    def similarity(a: Annotated[str, Query()], b: Annotated[str, Query()]) -> Response:
        value = session.similarity(a, b)
        return json_response({"a": session.resolve(a), "b": session.resolve(b), "similarity": value})

    @app.get("/doesnt_match", summary="The word that goes least with the others")
    def doesnt_match(
        words: Annotated[list[str], Query(description="Two or more words (repeat the parameter).")],
    ) -> Response:
        check_words(words, "words", least=2)
        odd = session.doesnt_match(words)
        return json_response({"words": [session.resolve(w) for w in words], "doesnt_match": odd})

    @app.get("/project", summary="Words placed on a plane (PCA, as `embedkit plot`)")
    def project(
        words: Annotated[list[str], Query(description="Words to place (repeat the parameter).")],
    ) -> Response:
        """2-D coordinates of the words' unit vectors on their first two principal axes, fitted
        on these words (what the explorer page draws)."""
        check_words(words, "words")
        found = session.project(words)
        points = [{"word": w, "x": x, "y": y} for w, (x, y) in zip(found.words, found.points)]
        return json_response({"points": points, "variance_kept": found.variance_kept})

    return app


def _batch_item(session: QuerySession, words: list[str], found: list[tuple[str, float]] | None) -> dict:
    if found is not None:
        return {"answers": _answers(found)}
    missing = session.unknown_word(words) or words[0]
    return {"error": f"word {_short(missing)} is not in the vocabulary", "unknown": missing}
