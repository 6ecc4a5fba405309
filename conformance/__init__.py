"""The conformance suite: checks a server (the in-process mock or a live deployment) against the
OpenAPI specs in `openapi/` and the semantics they cannot state. Run it with `pytest conformance`;
see README.md in this directory for the options.

The helpers live in modules without a `test_` prefix; test modules import them as
`conformance.<module>` (the package layout makes that work from any working directory).
"""
