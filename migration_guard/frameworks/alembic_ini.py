"""``alembic.ini`` read the way alembic reads it, statically: where the script directory and
the revisions are, and which values cannot be known without running the project.

Alembic's own ``Config`` interpolates with ``%(here)s`` (the ini's directory) and the
``[DEFAULT]`` section; a value filled in at run time (``{alembic_dir}``, an environment
variable, a ``%(...)s`` nobody defines) cannot be resolved from the tree, and a project
behind it is reported as a problem rather than guessed.
"""

from __future__ import annotations

import os
import posixpath
import re

from migration_guard.frameworks import Reader
from migration_guard.frameworks.sqldir import join, text_of
from migration_guard.typing_lite import NamedTuple

_HERE = "\0here\0"
_SECTION = "alembic"
_RUNTIME = re.compile(r"[{}$]")
_SPLIT = r"[\s,;:]+"


class IniSettings(NamedTuple):
    script_dir: str
    versions_dir: str
    sys_path: tuple[str, ...]
    problem: str = ""


def _exists(path: str, read: Reader) -> bool:
    return read(path) is not None


class _Values:
    """The ``[alembic]`` section with alembic's interpolation; problems collected."""

    def __init__(self, ini: str, text: str) -> None:
        import configparser

        self.ini = ini
        self.parser = configparser.ConfigParser(defaults={"here": _HERE}, strict=False)
        self.parser.read_string(text, source=ini)

    def get(self, key: str) -> str | None:
        """The value with ``%(here)s`` resolved; None when absent; ValueError with the
        reason when it is only known at run time."""
        import configparser

        try:
            raw = self.parser.get(_SECTION, key, fallback=None)
        except configparser.InterpolationError as exc:
            raise ValueError(f"{key} uses an interpolation alembic.ini does not define "
                             f"({exc.__class__.__name__})") from None
        if raw is None or not raw.strip():
            return None
        value = raw.strip()
        if _RUNTIME.search(value):
            raise ValueError(f"{key} = {value.replace(_HERE, '%(here)s')} is filled in at "
                             "run time")
        return value.replace(_HERE, ".")  # joined with the ini's directory by the caller


#: Settings kept per cache folder: a few projects' alembic.ini files, as they change.
KEPT_SETTINGS = 256
#: Bump when what is stored changes.
SETTINGS_FORMAT = "alembic-ini-1"


def read_ini_kept(ini: str, read: Reader, directory: str | None) -> IniSettings:
    """:func:`read_ini`, from the cache folder ``directory`` (``None``: keep nothing) when
    this ``alembic.ini``'s bytes were read before and each file reading them looked for is
    still there, or still missing: importing configparser and parsing cost every hook of
    an Alembic project ~3 ms, taking them from here ~0.2 ms."""
    from migration_guard.cache import Pack, key_of

    data = read(ini)
    pack = Pack(directory, keep=KEPT_SETTINGS)
    key = key_of((SETTINGS_FORMAT, _code_stamp(), ini, data or b""))
    kept = _settings_of(pack.get(key), read)
    if kept is not None:
        return kept
    looked_for: dict[str, bool] = {}

    def watched(path: str) -> bytes | None:
        found = data if path == ini else read(path)
        if path != ini:
            looked_for[path] = found is not None
        return found

    settings = read_ini(ini, watched)
    pack.put(key, (*settings, tuple(looked_for.items())))
    pack.save()
    return settings


def _settings_of(stored: object, read: Reader) -> IniSettings | None:
    """The kept settings, when they are what :func:`read_ini` would say now."""
    if not isinstance(stored, tuple) or len(stored) != len(IniSettings._fields) + 1:
        return None
    *fields, looked_for = stored
    try:
        if any((read(path) is not None) != present for path, present in looked_for):
            return None  # a file it looked for came or went: read the ini again
        settings = IniSettings(*fields)
    except (TypeError, ValueError):
        return None
    if not (all(isinstance(v, str) for v in (settings.script_dir, settings.versions_dir,
                                              settings.problem))
            and isinstance(settings.sys_path, tuple)
            and all(isinstance(v, str) for v in settings.sys_path)):
        return None
    return settings


def _code_stamp() -> str:
    """This module's size and time: an edited or reinstalled reader reads again."""
    try:
        stat = os.stat(__file__)
    except OSError:
        return "unknown"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def read_ini(ini: str, read: Reader) -> IniSettings:
    """Where an ``alembic.ini``'s project lives; ``problem`` says why it cannot be known."""
    import configparser

    here = posixpath.dirname(ini)
    fallback = IniSettings(here, join(here, "versions"), (here,))
    try:
        values = _Values(ini, text_of(read, ini))
    except configparser.Error as exc:
        return fallback._replace(problem=f"{ini}: cannot parse it: {exc}")
    if not values.parser.has_section(_SECTION):
        return fallback._replace(problem=f"{ini}: no [alembic] section")
    try:
        script_dir = _script_dir(values, here, read)
        versions = values.get("version_locations")
        prepend = values.get("prepend_sys_path") or "."
    except ValueError as error:
        return fallback._replace(problem=f"{ini}: {error}")
    versions_dir = join(here, re.split(_SPLIT, versions)[0]) if versions \
        else join(script_dir, "versions")
    roots = tuple(join(here, p) for p in re.split(_SPLIT, prepend) if p)
    return IniSettings(script_dir, versions_dir, roots)


def _script_dir(values: _Values, here: str, read: Reader) -> str:
    location = values.get("script_location")
    if location is None:
        # Flask-Migrate writes alembic.ini into the script directory, without
        # script_location: it hands alembic that directory itself.
        if _exists(join(here, "env.py"), read):
            return here
        raise ValueError("[alembic] has no script_location and there is no env.py beside it")
    if ":" in location:
        return _package_location(location, here, read)
    return join(here, location)


def _package_location(location: str, here: str, read: Reader) -> str:
    """``package:directory``: alembic finds the package on ``sys.path``; here, the package's
    directory at the top, in ``src/`` or beside the ini, wherever ``env.py`` is found."""
    package, _, directory = location.partition(":")
    relative = join(package.replace(".", "/"), directory)
    for prefix in ("", "src", here):
        candidate = join(prefix, relative)
        if _exists(join(candidate, "env.py"), read):
            return candidate
    raise ValueError(f"script_location = {location} names a package directory with no env.py "
                     "in the tree")
