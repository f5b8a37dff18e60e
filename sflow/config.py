"""Where sflow keeps things and who the user is: one place that reads the environment.

Precedence everywhere: explicit argument (CLI flag / LSP setting) > environment > default.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_path

DEFAULT_QLIB_DATA = Path("~/.qlib/qlib_data/cn_data").expanduser()


def data_dir() -> Path:
    """sflow's per-user data directory (XDG: ``~/.local/share/sflow``), overridable by SFLOW_HOME."""
    override = os.environ.get("SFLOW_HOME")
    return Path(override).expanduser() if override else user_data_path("sflow", appauthor=False)


def default_database_url() -> str:
    """SQLite file in the data directory: the embedded default, no server needed."""
    return f"sqlite:///{data_dir() / 'sflow.db'}"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("SFLOW_DATABASE_URL") or default_database_url()


def user_id(explicit: str | None = None) -> str:
    """The user every query is scoped to: setting, else SFLOW_USER, else the OS login."""
    if explicit:
        return explicit
    if os.environ.get("SFLOW_USER"):
        return os.environ["SFLOW_USER"]
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers without a passwd entry)
        return "local"


def qlib_data_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    raw = explicit or os.environ.get("SFLOW_QLIB_DATA")
    return Path(raw).expanduser() if raw else DEFAULT_QLIB_DATA


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one CLI invocation or one server workspace."""

    database_url: str
    user_id: str
    qlib_data: Path

    @classmethod
    def resolve(
        cls,
        database: str | None = None,
        user: str | None = None,
        qlib_data: str | None = None,
    ) -> Settings:
        return cls(database_url(database), user_id(user), qlib_data_path(qlib_data))
