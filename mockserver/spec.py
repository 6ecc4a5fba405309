"""Load an OpenAPI 3.1 document and compile it into operations the engine can serve.

Compilation happens once, at start-up: every operation gets its parameters, accepted request
media types and pre-built JSON Schema validators, so that no request ever walks the spec.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .validation import SchemaValidator, ValidatorFactory

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
REPO_SPEC_DIR = Path(__file__).resolve().parent.parent / "openapi"


class SpecError(Exception):
    """The spec cannot be served: a broken document, or handlers that do not match it."""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    kind: str  # the schema's primary type: integer, number, boolean, string, array
    validator: SchemaValidator


@dataclass(frozen=True)
class ResponseSpec:
    status: str  # "200", "4XX", "default"
    media_types: tuple[str, ...]
    validator: SchemaValidator | None
    required_headers: tuple[str, ...]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    path_params: tuple[Parameter, ...]
    query_params: tuple[Parameter, ...]
    body_media_types: tuple[str, ...]
    body_required: bool
    body_validator: SchemaValidator | None
    responses: dict[str, ResponseSpec]
    secured: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    def response_for(self, status: int) -> ResponseSpec | None:
        """The documented response for a status: exact code, then `4XX`-style range, then default."""
        code = str(status)
        return self.responses.get(code) or self.responses.get(code[0] + "XX") or self.responses.get("default")

    @property
    def response_media_types(self) -> tuple[str, ...]:
        types: list[str] = []
        for response in self.responses.values():
            types.extend(t for t in response.media_types if t not in types)
        return tuple(types) or ("application/json",)


@dataclass
class ApiSpec:
    """A compiled spec: its base path and its operations, by operationId and by path."""

    title: str
    base_path: str
    document: dict[str, Any] = field(repr=False)
    operations: dict[str, Operation] = field(default_factory=dict)
    paths: dict[str, dict[str, Operation]] = field(default_factory=dict)
    factory: ValidatorFactory | None = field(default=None, repr=False)

    def schema(self, name: str) -> dict[str, Any]:
        """A named schema of the document (`components/schemas/<name>`), e.g. to read a limit from it."""
        return self.document["components"]["schemas"][name]

    def request_headers(self) -> tuple[str, ...]:
        """The request headers the spec names (API keys sent in a header, header parameters): what
        a CORS preflight must allow a page to send."""
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        names = [scheme["name"] for scheme in schemes.values()
                 if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("in") == "header"]
        for path_item in (self.document.get("paths") or {}).values():
            entries = list(path_item.get("parameters", []))
            for method in HTTP_METHODS:
                entries.extend((path_item.get(method.lower()) or {}).get("parameters", []))
            for entry in entries:
                param, _ = deref(self.document, entry, "")
                if param.get("in") == "header":
                    names.append(param["name"])
        return tuple(dict.fromkeys(names))

    def validator(self, pointer: str) -> SchemaValidator:
        """A validator for any schema in the document, e.g. `/components/schemas/Project`."""
        assert self.factory is not None
        return self.factory.validator(pointer)


def find_spec_file(name: str) -> Path:
    """Locate a spec: an existing path, else shipped with the package (wheel), else in openapi/."""
    if Path(name).is_absolute() and Path(name).is_file():
        return Path(name)
    try:
        packaged = importlib.resources.files("mockserver") / "_specs" / name
        if packaged.is_file():
            return Path(str(packaged))
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover
        pass
    candidate = REPO_SPEC_DIR / name
    if candidate.is_file():
        return candidate
    raise SpecError(f"spec file {name!r} not found (looked in the package and in {REPO_SPEC_DIR})")


def load_spec(name: str, api: str) -> ApiSpec:
    """The compiled spec of a file, compiled once per file version (compiled specs are read-only)."""
    path = find_spec_file(name)
    return _compiled(str(path), path.stat().st_mtime_ns, f"urn:mockserver:{api}")


@functools.lru_cache(maxsize=16)
def _compiled(path: str, mtime_ns: int, uri: str) -> ApiSpec:
    return compile_spec(load_document(Path(path)), uri)


def load_document(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise SpecError(f"{path}: not an OpenAPI 3.x document")
    return document


def compile_spec(document: dict[str, Any], uri: str = "urn:mockserver:spec") -> ApiSpec:
    factory = ValidatorFactory(document, uri)
    servers = document.get("servers") or [{"url": "/"}]
    base_path = urlsplit(servers[0]["url"]).path.rstrip("/")
    spec = ApiSpec(title=document.get("info", {}).get("title", uri), base_path=base_path, document=document,
                   factory=factory)
    global_security = document.get("security") or []
    for template, path_item in (document.get("paths") or {}).items():
        shared = path_item.get("parameters", [])
        pointer = "/paths/" + _escape(template)
        for method in HTTP_METHODS:
            raw = path_item.get(method.lower())
            if raw is None:
                continue
            op_pointer = f"{pointer}/{method.lower()}"
            op = _compile_operation(factory, document, template, method, raw, shared, op_pointer, global_security)
            if op.operation_id in spec.operations:
                raise SpecError(f"duplicate operationId {op.operation_id!r}")
            spec.operations[op.operation_id] = op
            spec.paths.setdefault(template, {})[method] = op
    return spec


def _compile_operation(factory, document, template, method, raw, shared, pointer, global_security) -> Operation:
    operation_id = raw.get("operationId")
    if not operation_id:
        raise SpecError(f"{method} {template}: every operation needs an operationId")
    params: dict[tuple[str, str], Parameter] = {}
    path_level = pointer.rsplit("/", 1)[0] + "/parameters"
    sources = [(shared, path_level), (raw.get("parameters", []), pointer + "/parameters")]
    for source, base in sources:
        for i, entry in enumerate(source):
            param, param_pointer = deref(document, entry, f"{base}/{i}")
            schema, schema_pointer = deref(document, param.get("schema", {}), param_pointer + "/schema")
            kind = schema.get("type", "string")
            if isinstance(kind, list):
                kind = next((k for k in kind if k != "null"), "string")
            params[(param["in"], param["name"])] = Parameter(
                name=param["name"],
                location=param["in"],
                required=bool(param.get("required", param["in"] == "path")),
                kind=kind,
                validator=factory.validator(schema_pointer),
            )
    body_types: tuple[str, ...] = ()
    body_required = False
    body_validator = None
    if "requestBody" in raw:
        body, body_pointer = deref(document, raw["requestBody"], pointer + "/requestBody")
        content = body.get("content", {})
        body_types = tuple(content)
        body_required = bool(body.get("required", False))
        if content:
            first = next(iter(content))
            if "schema" in content[first]:
                body_validator = factory.validator(f"{body_pointer}/content/{_escape(first)}/schema")
    responses: dict[str, ResponseSpec] = {}
    for status, entry in (raw.get("responses") or {}).items():
        response, response_pointer = deref(document, entry, f"{pointer}/responses/{status}")
        content = response.get("content", {})
        validator = None
        json_type = next((t for t in content if t.endswith("json")), None)
        if json_type and "schema" in content[json_type]:
            validator = factory.validator(f"{response_pointer}/content/{_escape(json_type)}/schema")
        headers = []
        for name, header in (response.get("headers") or {}).items():
            header, _ = deref(document, header, "")
            if header.get("required"):
                headers.append(name)
        responses[str(status).upper()] = ResponseSpec(str(status).upper(), tuple(content), validator, tuple(headers))
    security = raw.get("security", global_security)
    return Operation(
        operation_id=operation_id,
        method=method,
        path=template,
        path_params=tuple(p for p in params.values() if p.location == "path"),
        query_params=tuple(p for p in params.values() if p.location == "query"),
        body_media_types=body_types,
        body_required=body_required,
        body_validator=body_validator,
        responses=responses,
        secured=any(requirement for requirement in security),
        raw=raw,
    )


def deref(document: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """Follow local `$ref`s of non-schema objects; return the target and its JSON pointer."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise SpecError(f"unsupported or circular $ref {ref!r}")
        seen.add(ref)
        pointer = ref[1:]
        node = document
        for part in pointer[1:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def template_regex(template: str) -> re.Pattern[str]:
    """`/v1/projects/{pk}/hard` → a regex with one named group per path parameter."""
    parts = re.split(r"(\{[^}/]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)
