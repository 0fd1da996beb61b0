"""The project's scripts (scripts/*.py are not a package) imported as modules, for the tests of their checks."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.support.constants import ROOT


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as the module `name` (once per test session)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
