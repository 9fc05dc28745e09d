"""Tiny typed readers for settings that come from the environment only."""

import os
from pathlib import Path


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def data_dir() -> Path:
    """The folder that holds the embedded database, uploads and the generated secret key."""
    explicit = os.environ.get("PUNCHCLOCK_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "punchclock"


def secret_key(folder: Path, debug: bool) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder."""
    value = os.environ.get("SECRET_KEY")
    if value:
        return value
    key_file = folder / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    import secrets

    key = secrets.token_urlsafe(50)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key)
        key_file.chmod(0o600)
    except OSError:
        if not debug:
            raise
    return key
