"""Where the audit store lives by default."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from auditor.store.location import check_url, is_url

ENV_DB = "CAMAUDIT_DB"


def default_db_path() -> Path:
    """$CAMAUDIT_DB (a path), else camaudit.db in the user's data folder (created on demand)."""
    env = os.environ.get(ENV_DB)
    if env and not is_url(env):
        return Path(env)
    return Path(platformdirs.user_data_dir("camaudit", appauthor=False)) / "camaudit.db"


def default_db() -> Path | str:
    """Where the store is when --db is not given: $CAMAUDIT_DB (a path or a ``postgresql://``
    URL, checked to carry no password), else :func:`default_db_path`."""
    env = os.environ.get(ENV_DB)
    if env and is_url(env):
        return check_url(env)
    return default_db_path()
