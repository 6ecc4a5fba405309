"""Shared machinery of the schema-driven layer: schema loading with the run's generation settings,
running one generated case with per-operation check exclusions, and turning failures of checks
listed as deviations (or advisory on a live server) into reported notes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation

from . import reporting
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


def run_case(case: Any, api: str, base_url: str, excluded: Mapping[str, Any],
             after_call: Callable[[Any, Any], None] | None = None, advisory: Advisory | None = None) -> Any:
    """Send the case, record what it created, then `validate` it."""
    __tracebackhide__ = True
    response = case.call(base_url=base_url)
    if after_call is not None:
        after_call(case, response)
    validate(case, response, api, excluded, {"base_url": base_url}, advisory=advisory)
    return response


def validate(case: Any, response: Any, api: str, excluded: Mapping[str, Any], transport_kwargs: dict[str, Any],
             recorder: Any = None, advisory: Advisory | None = None) -> None:
    """Every schemathesis check except `excluded`. Failures of checks listed in the deviations file
    are recorded as notes (reported as expected failures with their reason), as are failures that
    `advisory` says rest on a mock decision when the target is a live server; others are raised."""
    __tracebackhide__ = True
    try:
        case.validate_response(response, excluded_checks=list(excluded.values()), transport_kwargs=transport_kwargs,
                               recorder=recorder)
    except FailureGroup as group:
        remaining = []
        for failure in group.exceptions:
            check = (getattr(failure, "checks", ()) or (type(failure).__name__,))[0]
            found = reporting.deviation_for_check(api, check, case.operation.label)
            reason = advisory(failure, response) if advisory is not None and SETTINGS.live else None
            if found:
                reporting.note("deviation", found[0], found[1], f"{failure.code} {failure.title}")
            elif reason:
                reporting.note("advisory", f"{api}.schema.{check}", reason, f"{failure.code} {failure.title}")
            else:
                remaining.append(failure)
        if len(remaining) == len(group.exceptions):
            raise
        if remaining:
            raise FailureGroup(remaining, group.message) from None


def excluded_checks(table: Mapping[str, Mapping[str, str]], op_id: str) -> dict[str, Any]:
    """The check functions to skip for one operation (names from `table`, see its comments)."""
    from schemathesis import checks

    return {name: getattr(checks, name) for name in table.get(op_id, {})}


__all__ = ["ParameterLocation", "is_positive", "load_schema", "operation_id", "run_case"]


def run_state_machine(machine: Any, *, max_examples: int, steps: int = 6, attempts: int = 3) -> None:
    """Run a schemathesis state machine like its TestCase would, but report the real failure.

    Against a server with state, Hypothesis may find that re-drawing a sequence leads elsewhere
    (new pks, changed records) and raise `Flaky*` instead of the failure it saw. The machine
    records every failure it raises (see `Recording`); a Flaky error is replaced by the first of
    them, and a Flaky error without any failure just starts a fresh run (another seed)."""
    __tracebackhide__ = True
    from hypothesis import seed, settings
    from hypothesis.errors import Flaky, FlakyFailure
    from schemathesis.engine.errors import is_inconsistent_replay
    from schemathesis.generation.hypothesis.reporting import UnsatisfiableSchema

    # derandomize stays off even under CI=true (Hypothesis' ci profile): the seed below is what
    # makes default runs reproducible
    run_settings = settings(machine.TestCase.settings, max_examples=max_examples, stateful_step_count=steps,
                            database=None, derandomize=False)
    for attempt in range(attempts):
        machine.failures = []
        if not SETTINGS.thorough:
            seed(20261125 + attempt)(machine)  # reproducible default runs (derandomize would re-walk the tree)
        try:
            machine.run(settings=run_settings)
            return
        except FlakyFailure as exc:
            raise exc.exceptions[0] from None
        except UnsatisfiableSchema:
            # a step drew a media type whose schema admits nothing (`not: {}`): another seed may not
            if machine.failures:
                raise machine.failures[0] from None
            if attempt == attempts - 1:
                raise
        except (Flaky, AssertionError) as exc:
            if not isinstance(exc, Flaky) and not is_inconsistent_replay(exc):
                raise
            if machine.failures:
                raise machine.failures[0] from None
    # every attempt ended in a replay inconsistency without a single failing check: nothing to report


class Recording:
    """Mixin for state machines: remembers the failures raised by checks (see run_state_machine)."""

    failures: list[BaseException] = []

    def remember(self, exc: BaseException) -> None:
        type(self).failures.append(exc)


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
    return _coverage_seen[op] % keep_every != 1


def link_workflow(api: str, schema: Any, *, base_url: Callable[[], str], pool: Any, prepare: Callable[[Any], None],
                  after_call: Callable[[Any, Any], None], check_effects: Callable[[Any, Any], None],
                  excluded: Mapping[str, Mapping[str, str]], stateful_excluded: Mapping[str, str],
                  advisory: Advisory | None = None) -> type:
    """A state machine over the spec's links for `api`: every check (minus the operation's
    exclusions and `stateful_excluded`), the suite's request preparation, and `check_effects`
    for what a successful call implies for the next read."""

    def checks_to_skip(op: str) -> dict[str, Any]:
        return excluded_checks({op: {**excluded.get(op, {}), **stateful_excluded}}, op)

    class Workflow(Recording, schema.as_state_machine()):
        def setup(self) -> None:
            pool.setup()

        def before_call(self, case) -> None:
            prepare(case)

        def get_call_kwargs(self, case) -> dict:
            return {"base_url": base_url()}

        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            after_call(case, response)
            try:
                check_effects(case, response)
            except AssertionError as exc:
                self.remember(exc)
                raise

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            __tracebackhide__ = True
            try:
                validate(case, response, api, checks_to_skip(operation_id(case)), kwargs or {}, self.recorder,
                         advisory=advisory)
            except AssertionError as exc:
                self.remember(exc)
                raise

    Workflow.__name__ = f"{api.title()}LinkWorkflow"
    return Workflow

