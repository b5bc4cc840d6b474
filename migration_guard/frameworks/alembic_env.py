"""Find an Alembic project's schema sources: the modules behind ``target_metadata``.

``env.py`` names the metadata (``target_metadata = Base.metadata``); the import that
binds ``Base`` names its module; that module, and the repository modules it imports that
use SQLAlchemy (or SQLModel), are the model files whose changes need a migration.
Everything is read from the snapshot, statically: nothing is imported or executed.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable

from migration_guard.errors import GuardError

Reader = Callable[[str], bytes | None]
_USES_ORM = re.compile(rb"sqlalchemy|sqlmodel", re.IGNORECASE)
_MAX_MODULES = 500


def _imports(tree: ast.Module, package: str) -> dict[str, str]:
    """Local name -> fully qualified module-or-attribute it was imported as."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[(alias.asname or alias.name).split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - node.level + 1] if node.level > 1 else parts
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return bound


def _metadata_names(tree: ast.Module) -> list[str] | None:
    """Root names used in ``target_metadata = ...``; None when it is not assigned."""
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        if value is None or not any(
            isinstance(t, ast.Name) and t.id == "target_metadata" for t in targets
        ):
            continue
        return [n.id for n in ast.walk(value) if isinstance(n, ast.Name)]
    return None


class _Resolver:
    def __init__(self, files: set[str], roots: list[str]) -> None:
        self.files = files
        self.roots = roots

    def module_file(self, dotted: str) -> tuple[str, bool] | None:
        """(file, is_package) for a dotted module name, trying each root."""
        rel = dotted.replace(".", "/")
        for root in self.roots:
            base = posixpath.normpath(posixpath.join(root, rel)) if root else rel
            if f"{base}.py" in self.files:
                return f"{base}.py", False
            if f"{base}/__init__.py" in self.files:
                return f"{base}/__init__.py", True
        return None

    def resolve(self, qualified: str) -> tuple[str, bool, str] | None:
        """The module a qualified name lives in: try ``a.b.C`` as a module, then ``a.b``."""
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            dotted = ".".join(parts[:cut])
            found = self.module_file(dotted)
            if found:
                return found[0], found[1], dotted
        return None


def schema_sources(
    env_path: str, roots: list[str], files: set[str], read: Reader
) -> tuple[list[str], str]:
    """Globs of the model files behind env.py's target_metadata, and how they were found."""
    data = read(env_path)
    if data is None:
        raise GuardError(f"{env_path} not found", "set `schema:` for this project in the config")
    try:
        tree = ast.parse(data.decode("utf-8-sig"), env_path)
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise GuardError(
            f"{env_path}: cannot read it to find target_metadata: {exc}",
            "fix env.py, or set `schema:` globs for this project in the config",
        ) from None
    names = _metadata_names(tree)
    if names is None or names == ["None"] or not names:
        return [], f"{env_path} sets no target_metadata"
    resolver = _Resolver(files, roots)
    imports = _imports(tree, "")
    queue: list[tuple[str, bool, str]] = []
    for name in names:
        if name in imports and (found := resolver.resolve(imports[name])):
            queue.append(found)
    if not queue:
        # Metadata built in env.py itself: every ORM module env.py imports counts.
        queue = [f for q in imports.values() if (f := resolver.resolve(q))]
    globs: list[str] = []
    seen: set[str] = set()
    first = True
    while queue and len(seen) < _MAX_MODULES:
        path, is_package, dotted = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        content = read(path) or b""
        if not first and not _USES_ORM.search(content):
            continue
        first = False
        globs.append(f"{posixpath.dirname(path)}/**/*.py" if is_package else path)
        try:
            module_tree = ast.parse(content.decode("utf-8-sig"), path)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        package = dotted if is_package else dotted.rpartition(".")[0]
        for qualified in _imports(module_tree, package).values():
            if (found := resolver.resolve(qualified)) and found[0] not in seen:
                queue.append(found)
    if not globs:
        raise GuardError(
            f"cannot find the modules behind target_metadata in {env_path}",
            "set `schema:` globs (e.g. [\"app/models/**/*.py\"]) for this project in the config",
        )
    return sorted(set(globs)), f"modules behind target_metadata in {env_path}"


_DRIVER = re.compile(rb"postgresql\+(\w+)")


def named_drivers(ini_path: str, env_path: str, roots: list[str], files: set[str],
                  read: Reader) -> set[str]:
    """The PostgreSQL drivers (``postgresql+asyncpg``) that ``alembic.ini``, env.py and
    the repository modules env.py imports name: the one the project runs on."""
    env = read(env_path) or b""
    sources = [read(ini_path) or b"", env]
    try:
        tree = ast.parse(env.decode("utf-8-sig"), env_path)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        tree = None
    if tree is not None:
        resolver = _Resolver(files, roots)
        for qualified in _imports(tree, "").values():
            if found := resolver.resolve(qualified):
                sources.append(read(found[0]) or b"")
    return {m.decode() for source in sources for m in _DRIVER.findall(source)}


def needs_application(env_text: str) -> bool:
    """Whether env.py takes its engine or metadata from a running Flask application
    (Flask-Migrate's ``current_app``), which a throwaway run cannot build by itself."""
    try:
        tree = ast.parse(env_text)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.ImportFrom) and node.module == "flask"
               and any(a.name == "current_app" for a in node.names)
               for node in ast.walk(tree))
