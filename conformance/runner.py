"""`mockserver conformance [options]` (also `python -m conformance`): the conformance suite as a
command, for an installed wheel (`pip install "mockserver[conformance]"`, no clone needed).

It runs pytest on this package's own test modules with the suite's options (see README.md here or
`mockserver conformance --help`); every other pytest option works too (`-n auto`, `--junitxml`,
`-k`, `-x`). The settings file beside this module keeps a project's own pytest configuration in
the working directory from applying to the suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    import pytest

    args = list(sys.argv[1:] if argv is None else argv)
    base = [str(HERE), "-c", str(HERE / "runner.ini"), "--rootdir", str(HERE.parent), "-p", "no:cacheprovider"]
    return int(pytest.main([*base, *args]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
