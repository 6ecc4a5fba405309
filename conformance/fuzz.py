"""Shared machinery of the schema-driven layer: schema loading with the run's generation settings,
running one generated case (through the safety guard) with per-operation check exclusions, and
turning the checks a response fails into one finding of one rule (see reporting.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation

from . import reporting
from .client import curl, short_body
from .safety import GuardedSession, UnsafeRequest
from .settings import SETTINGS
from .target import SPEC_FILES

DEFAULT_EXAMPLES, THOROUGH_EXAMPLES = 15, 150


def load_schema(api: str) -> Any:
    schema = schemathesis.openapi.from_path(SPEC_FILES[api])
    deterministic = not SETTINGS.thorough  # the default run is reproducible; nightly runs explore
    schema.config.generation.update(max_examples=SETTINGS.examples(DEFAULT_EXAMPLES, THOROUGH_EXAMPLES),
                                    deterministic=deterministic, database="none")
    return schema


def operation_id(case: Any) -> str:
    return case.operation.definition.raw.get("operationId", case.operation.label)


def is_positive(case: Any, location: ParameterLocation) -> bool:
    """True unless this part of the case was generated as negative data (explicit examples count as positive)."""
    meta = case.meta
    return meta is None or not meta.is_negative_at(location)


Advisory = Callable[[Any, Any], "str | None"]  # (failure, response) -> reason, on live servers only


_sessions: dict[str, GuardedSession] = {}


def session(api: str) -> GuardedSession:
    """The guarded session every schemathesis request of `api` goes through (also the checks' own)."""
    if api not in _sessions:
        _sessions[api] = GuardedSession(api)
    return _sessions[api]


def run_case(case: Any, api: str, base_url: str, excluded: Mapping[str, Any],
             after_call: Callable[[Any, Any], None] | None = None, advisory: Advisory | None = None) -> Any:
    """Send the case, record what it created, then `validate` it. A case the safety guard holds
    back is not sent (counted for the summary)."""
    __tracebackhide__ = True
    transport = {"base_url": base_url, "session": session(api)}
    try:
        response = case.call(**transport)
    except UnsafeRequest:
        return None
    if after_call is not None:
        after_call(case, response)
    try:
        validate(case, response, api, excluded, transport, advisory=advisory)
    except UnsafeRequest:
        return response  # a check wanted to re-send it in a form the guard refuses
    return response


# The order in which the checks a response fired name its defect: the first one present is the
# primary check (an unsupported method answered 500 is an unsupported-method defect whose 500 is a
# consequence; a 500 on a valid request is a server error whose undocumented status and HTML body
# are consequences).
PRECEDENCE = ("unsupported_method", "ignored_auth", "missing_required_header", "negative_data_rejection",
              "positive_data_acceptance", "use_after_free", "ensure_resource_availability", "not_a_server_error",
              "status_code_conformance", "content_type_conformance", "response_headers_conformance",
              "allow_header_conformance", "response_schema_conformance")

Classifier = Callable[[Any, Any, list[str]], "str | None"]  # (case, response, checks) -> a named rule
CLASSIFIERS: dict[str, Classifier] = {}
# (case, response, checks) -> True where the response is right although checks fail: what the spec
# cannot say yet (each case documented where it is registered)
ACCEPTED: dict[str, Callable[[Any, Any, list[str]], bool]] = {}


def check_name(failure: Any) -> str:
    return (getattr(failure, "checks", ()) or (type(failure).__name__,))[0]


def ordered_checks(names: list[str]) -> list[str]:
    unique = list(dict.fromkeys(names))
    return sorted(unique, key=lambda n: PRECEDENCE.index(n) if n in PRECEDENCE else len(PRECEDENCE))


def http_layer_refusal(response: Any) -> bool:
    """A bare 400 (no body, no Content-Type) to a multipart request: the server's HTTP layer refused
    the framing itself (daphne/Twisted do so for a multipart body with no parts). A correct
    refusal, not a defect of the API: the envelope and header checks do not apply to it."""
    request = response.request
    content_type = (request.headers.get("Content-Type") or "").lower() if request is not None else ""
    return (response.status_code == 400 and not response.content and not response.headers.get("content-type")
            and content_type.startswith("multipart/"))


RESENDING_CHECKS = {"ignored_auth", "use_after_free", "ensure_resource_availability"}


def lenient_multipart(response: Any, names: list[str]) -> bool:
    """A multipart body with no named part that the server read as an empty form (Django does):
    for a partial update that is a valid request, so accepting it is no defect."""
    from .safety import decode_body

    request = response.request
    content_type = (request.headers.get("Content-Type") or "") if request is not None else ""
    return (content_type.lower().startswith("multipart/") and names == ["negative_data_rejection"]
            and decode_body(content_type, request.body) in ({}, None) and 200 <= response.status_code < 300)


ENVELOPE_CHECKS = {"content_type_conformance", "response_headers_conformance", "response_schema_conformance",
                   "status_code_conformance"}


def validate(case: Any, response: Any, api: str, excluded: Mapping[str, Any], transport_kwargs: dict[str, Any],
             recorder: Any = None, advisory: Advisory | None = None) -> None:
    """Every schemathesis check except `excluded`; the checks one response fired become one
    finding of one rule (see reporting.py), recorded for the running test instead of raised, so
    that the test goes on through all its cases."""
    __tracebackhide__ = True
    try:
        case.validate_response(response, excluded_checks=list(excluded.values()), transport_kwargs=transport_kwargs,
                               recorder=recorder)
    except FailureGroup as group:
        failures = list(group.exceptions)
        if http_layer_refusal(response):
            failures = [f for f in failures if check_name(f) not in ENVELOPE_CHECKS]
        names = [check_name(f) for f in failures]
        if lenient_multipart(response, names) or (api in ACCEPTED and ACCEPTED[api](case, response, names)):
            failures = []
        if failures:
            record_failures(case, response, api, failures, advisory)


def record_failures(case: Any, response: Any, api: str, failures: list[Any], advisory: Advisory | None = None) -> None:
    checks = ordered_checks([check_name(f) for f in failures])
    primary = next(f for f in failures if check_name(f) == checks[0])
    classifier = CLASSIFIERS.get(api)
    rule_id = (classifier(case, response, checks) if classifier else None) or f"{api}.schema.{checks[0]}"
    # a check that re-sent the request (ignored_auth: without credentials) says what that answer was
    actual = (reporting.first_lines(primary.message, 2) if checks[0] in RESENDING_CHECKS and primary.message
              else describe_response(response))
    finding = reporting.Finding(rule=rule_id, operation=case.operation.label,
                                expected=primary.title, actual=actual,
                                curl=curl(response.request) if response.request is not None else "",
                                checks=checks, api=api)
    reason = advisory(primary, response) if advisory is not None and SETTINGS.live else None
    if reason:
        finding.status, finding.reason = "advisory", reason
    reporting.record(finding)


def describe_response(response: Any) -> str:
    content_type = response.headers.get("content-type") or ["-"]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    text = response.content.decode("utf-8", "replace") if response.content else ""
    return f"status {response.status_code} ({content_type}), body {short_body(text, content_type)}"


def excluded_checks(table: Mapping[str, Mapping[str, str]], op_id: str) -> dict[str, Any]:
    """The check functions to skip for one operation (names from `table`, see its comments)."""
    from schemathesis import checks

    return {name: getattr(checks, name) for name in table.get(op_id, {})}


__all__ = ["ParameterLocation", "is_positive", "load_schema", "operation_id", "run_case"]


def run_state_machine(machine: Any, *, max_examples: int, steps: int = 6, attempts: int = 3) -> None:
    """Run a schemathesis state machine like its TestCase would. Checks record their findings
    instead of raising (see `validate`), so one run goes through every scenario; a run that
    Hypothesis finds flaky (re-drawing a sequence on a server with state leads elsewhere) or
    unsatisfiable just starts afresh with another seed."""
    __tracebackhide__ = True
    from hypothesis import seed, settings
    from hypothesis.errors import Flaky
    from schemathesis.generation.hypothesis.reporting import UnsatisfiableSchema

    # derandomize stays off even under CI=true (Hypothesis' ci profile): the seed below is what
    # makes default runs reproducible
    run_settings = settings(machine.TestCase.settings, max_examples=max_examples, stateful_step_count=steps,
                            database=None, derandomize=False)
    for attempt in range(attempts):
        if not SETTINGS.thorough:
            seed(20261125 + attempt)(machine)  # reproducible default runs (derandomize would re-walk the tree)
        try:
            machine.run(settings=run_settings)
            return
        except (Flaky, UnsatisfiableSchema):
            if attempt == attempts - 1:
                return  # what the attempts found is recorded; nothing more to report


def expect_effect(api: str, rule_id: str, condition: bool, response: Any, expected: str) -> None:
    """Record a finding of `rule_id` unless `condition` (what a successful call implies for the next read)."""
    if condition:
        return
    from .client import Operations, describe

    request = response.request
    reporting.record(reporting.Finding(rule=rule_id, operation=Operations.of(api).label(request.method, request.url),
                                       expected=expected, actual=describe(response), curl=curl(request), api=api))


_accounts_sent: dict[str, int] = {}
LIVE_ACCOUNT_CASES = 3


def leaves_accounts_behind(case: Any, op: str, account_creates: tuple[str, ...]) -> bool:
    """On a live server, send only the first few positive cases of an operation that creates users or
    teams: each one that succeeds stays behind for good (the API can only deactivate users, and
    cannot hard-delete a team that ever had members); negative cases, which must be refused, all go."""
    if not SETTINGS.live or op not in account_creates or not is_positive(case, ParameterLocation.BODY):
        return False
    _accounts_sent[op] = _accounts_sent.get(op, 0) + 1
    return _accounts_sent[op] > LIVE_ACCOUNT_CASES


_coverage_seen: dict[str, int] = {}


def sampled_out(case: Any, op: str, sampled: Mapping[str, int]) -> bool:
    """In the default (fast) run, send only every n-th coverage-phase case of the operations in
    `sampled` (op -> n): operations whose large request schema another operation already covers
    in full. `--thorough` sends every case."""
    keep_every = sampled.get(op)
    if SETTINGS.thorough or not keep_every:
        return False
    meta = case.meta
    if meta is None or meta.phase.name.value != "coverage":
        return False
    _coverage_seen[op] = _coverage_seen.get(op, 0) + 1
    _sampling[op] = keep_every
    return _coverage_seen[op] % keep_every != 1


_sampling: dict[str, int] = {}  # op -> n of the operations sampled_out thinned
_unfuzzed: dict[str, str] = {}  # op -> why it is not fuzzed at all in this run


def not_fuzzed(operations: tuple[str, ...], reason: str) -> None:
    """Note operations this run leaves out of the fuzzing, for the summary."""
    for op in operations:
        _unfuzzed[op] = reason


def unsent_lines() -> list[str]:
    """What the fuzzing left out on purpose in this run (no failure, no skip), for the summary:
    the cases it thinned out or held back, with how many it sent of how many."""
    lines = []
    for op, reason in sorted(_unfuzzed.items()):
        lines.append(f"  {op}: not fuzzed ({reason})")
    for op, seen in sorted(_coverage_seen.items()):
        every = _sampling[op]
        sent = (seen + every - 1) // every
        lines.append(f"  {op}: sent {sent} of {seen} coverage-phase cases (every {every}th; --thorough sends all)")
    for op, seen in sorted(_accounts_sent.items()):
        if seen > LIVE_ACCOUNT_CASES:
            lines.append(f"  {op}: sent {LIVE_ACCOUNT_CASES} of {seen} positive cases (each account it creates "
                         "stays on a live server)")
    return ["fuzzing: left out on purpose:", *lines] if lines else []


def link_workflow(api: str, schema: Any, *, base_url: Callable[[], str], pool: Any, prepare: Callable[[Any], None],
                  after_call: Callable[[Any, Any], None], check_effects: Callable[[Any, Any], None],
                  excluded: Mapping[str, Mapping[str, str]], stateful_excluded: Mapping[str, str],
                  advisory: Advisory | None = None, skip: Callable[[Any], bool] | None = None) -> type:
    """A state machine over the spec's links for `api`: every check (minus the operation's
    exclusions and `stateful_excluded`), the suite's request preparation, and `check_effects`
    for what a successful call implies for the next read."""

    def checks_to_skip(op: str) -> dict[str, Any]:
        return excluded_checks({op: {**excluded.get(op, {}), **stateful_excluded}}, op)

    class Workflow(schema.as_state_machine()):
        def setup(self) -> None:
            pool.setup()

        def before_call(self, case) -> None:
            prepare(case)

        def get_call_kwargs(self, case) -> dict:
            return {"base_url": base_url(), "session": session(api)}

        def call(self, case, **kwargs):
            from hypothesis import reject

            if skip is not None and skip(case):
                reject()  # not sent (e.g. one more account that would stay on a live server)
            try:
                return case.call(**kwargs)
            except UnsafeRequest:
                reject()  # not sent: this step could have touched someone else's record

        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            after_call(case, response)
            check_effects(case, response)

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            __tracebackhide__ = True
            try:
                validate(case, response, api, checks_to_skip(operation_id(case)), kwargs or {}, self.recorder,
                         advisory=advisory)
            except UnsafeRequest:
                pass  # a check wanted to re-send the request in a form the guard refuses

    Workflow.__name__ = f"{api.title()}LinkWorkflow"
    return Workflow

