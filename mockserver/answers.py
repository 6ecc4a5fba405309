"""HTTP answers built from handlers' `Reply`s, on top of header blocks computed once per path.

Every answer of an API carries fixed headers (its `HttpDialect.response_headers` for the spec
path, such as DRF's `Allow` and `Vary`, plus the service's common ones such as CORS). They are
built once when the API is mounted, so that an answer copies one block instead of setting
headers one by one; `HttpDialect.finish_response` then adds what varies per answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from multidict import CIMultiDict

from . import jsonio
from .api import NO_BODY, ApiDefinition, Reply
from .jsonio import Encoded
from .router import PathEntry, Router

HeaderBlocks = tuple[CIMultiDict[str], CIMultiDict[str]]  # (of a JSON answer, of one without a body)


class Answers:
    """Turns one API's replies into responses."""

    def __init__(self, router: Router, definition: ApiDefinition, common: Mapping[str, str]) -> None:
        self._finish = definition.http.finish_response
        self._blocks: dict[str | None, HeaderBlocks] = {}
        for template, allowed in [(None, None)] + [(e.template, e.allowed) for e in router.entries]:
            fixed = dict(definition.http.response_headers(allowed)) if definition.http.response_headers else {}
            bare = CIMultiDict({**fixed, **common})
            self._blocks[template] = (CIMultiDict({"Content-Type": "application/json", **bare}), bare)

    def response(self, reply: Reply, entry: PathEntry | None, request_id: str,
                 request: web.BaseRequest) -> web.Response:
        """The HTTP answer: the reply's body and headers on the path's header block (`entry` None:
        an answer outside any path of the API)."""
        json_headers, bare_headers = self._blocks[entry.template if entry is not None else None]
        body = reply.body
        if reply.content_type is not None:
            response = web.Response(status=reply.status, body=body.encode("utf-8") if isinstance(body, str) else body,
                                    headers=bare_headers, content_type=reply.content_type)
        elif body is NO_BODY:
            response = web.Response(status=reply.status, headers=bare_headers)
        else:
            data = body.data if type(body) is Encoded else jsonio.dumps(body)
            response = web.Response(status=reply.status, body=data, headers=json_headers)
        if reply.headers:
            response.headers.update(reply.headers)
        if self._finish is not None:
            self._finish(response, entry.allowed if entry else None, request_id, request)
        return response
