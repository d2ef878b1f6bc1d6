"""Finding and opening backends by URL, through entry points.

A backend package declares a :class:`BackendSpec` (strings only, so listing backends imports no
driver) under the ``persona_memory.backends`` entry-point group::

    [project.entry-points."persona_memory.backends"]
    mystore = "mypackage.backend:SPEC"

The built-in backends are declared the same way in this project's ``pyproject.toml``; they are
also known without installation metadata (running from a source tree). ``PMEM_LOAD_BACKENDS``
(comma-separated names), read at call time, limits which third-party entry points are loaded.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import BackendUnavailableError, ConfigError

ENTRY_POINT_GROUP = "persona_memory.backends"
B = TypeVar("B")


@dataclass(frozen=True)
class BackendSpec:
    """How to open one kind of backend.

    ``sync_cls`` and ``async_cls`` are ``"module:Class"`` paths. ``async_cls`` may be None for a
    backend on a blocking driver: async code then gets the sync class in a worker thread
    (:class:`~persona_memory.backends.threaded.AsyncThreadedBackend`). Each class has a
    ``from_url(url, **options)`` classmethod. ``extra`` names the pip extra the driver comes with.
    """

    name: str
    schemes: tuple[str, ...]
    sync_cls: str
    async_cls: str | None = None
    extra: str | None = None
    description: str = ""
    requires: tuple[str, ...] = ()  # importable modules the backend needs (checked by `state`)
    #: what ``version()`` reports: distribution names, or ``"module:attribute"`` paths
    versions: tuple[str, ...] = ()
    #: the distribution that provides the backend (a third party names its own)
    package: str = "persona-memory"

    def install_hint(self) -> str:
        if self.extra is None:
            return f"pip install '{self.package}'"
        return f"pip install '{self.package}[{self.extra}]'"

    def state(self) -> str:
        """``"ready"`` or ``"missing extra: pip install ..."`` (imports only the driver modules)."""
        for module in self.requires:
            try:
                importlib.import_module(module)
            except ImportError:
                return f"missing extra: {self.install_hint()}"
        return "ready"


    def version(self) -> str:
        """The versions of what the backend runs on, e.g. ``"redis 5.2.1"`` ("-" if unknown)."""
        found = []
        for item in self.versions:
            module, _, attribute = item.partition(":")
            try:
                if attribute:
                    found.append(f"{module} {getattr(importlib.import_module(module), attribute)}")
                else:
                    found.append(f"{item} {importlib.metadata.version(item)}")
            except (ImportError, AttributeError):
                continue
        return ", ".join(found) or "-"


def builtin_specs() -> list[BackendSpec]:
    from . import backends

    return list(backends.BUILTIN)


def specs() -> dict[str, BackendSpec]:
    """Every known backend by name: built-ins first, then entry points."""
    found = {spec.name: spec for spec in builtin_specs()}
    allow = os.environ.get("PMEM_LOAD_BACKENDS")
    allowed = None if allow is None else {n.strip() for n in allow.split(",") if n.strip()}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in found:
            continue
        if allowed is not None and entry.name not in allowed:
            continue
        spec = entry.load()
        if not isinstance(spec, BackendSpec):
            raise ConfigError(f"entry point {entry.value!r} is not a persona_memory BackendSpec")
        found[spec.name] = spec
    return found


def spec_for_url(url: str) -> BackendSpec:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    for spec in specs().values():
        if scheme in spec.schemes:
            return spec
    known = sorted(s for spec in specs().values() for s in spec.schemes)
    raise ConfigError(
        f"no backend for URL {url!r}: expected one of the schemes {', '.join(known)} "
        "(e.g. sqlite:///path/to/memories.db)"
    )


def _load(path: str, spec: BackendSpec) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the {spec.name} backend needs {spec.install_hint()} ({exc})"
        ) from exc
    return getattr(module, attr)


def open_backend(url: str, kind: type[B], **options: Any) -> B:
    """Open the backend for ``url`` as an instance of ``kind`` (``Backend`` or ``AsyncBackend``).

    Options the backend does not take are ignored (``durability`` means nothing to Redis).
    """
    from .backends._async.base import AsyncBackend

    spec = spec_for_url(url)
    want_async = issubclass(kind, AsyncBackend)
    path = spec.async_cls if want_async and spec.async_cls else spec.sync_cls
    cls = _load(path, spec)
    accepted = getattr(cls, "url_options", None)
    if accepted is not None:
        options = {k: v for k, v in options.items() if k in accepted}
    backend = cls.from_url(url, **options)
    if want_async and not isinstance(backend, AsyncBackend):
        from .backends.threaded import AsyncThreadedBackend

        backend = AsyncThreadedBackend(backend)
    return backend  # type: ignore[no-any-return]
