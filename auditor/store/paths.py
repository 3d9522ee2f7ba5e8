"""Where the audit store lives by default."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DB = "CAMAUDIT_DB"


def default_db_path() -> Path:
    """$CAMAUDIT_DB, else camaudit.db in the user's data folder (created on demand)."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("camaudit", appauthor=False)) / "camaudit.db"
