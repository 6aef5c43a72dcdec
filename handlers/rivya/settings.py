"""Settings from the environment (RIVYA_*), read once per process."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUILTIN_CATALOG = Path(__file__).parent / "catalog" / "builtin.yaml"


class Settings(BaseSettings):
    """Everything an operator can set. Each field reads the variable RIVYA_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RIVYA_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".rivya"), description="Where the embedded database and stored files live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default a SQLite file in the data directory. "
        "Use postgresql+asyncpg://… for scale.",
    )
    catalog: Path = Field(default=BUILTIN_CATALOG, description="The model catalog (YAML).")
    log_level: str = Field(default="INFO", description="Python logging level.")
    auth_cache_poll: float = Field(
        default=0.25,
        ge=0,
        description="Seconds between checks for revoked or rotated keys; a revocation takes "
        "effect within this time in every server process. 0 turns the key cache off.",
    )
    key_touch_interval: int = Field(
        default=60,
        ge=0,
        description="Seconds between writes of an API key's last_used_at (0: every request).",
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to `<data_dir>/rivya.db` (SQLite)."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'rivya.db').resolve()}"
