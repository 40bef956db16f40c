"""Process settings, read from the environment with the ``CROSSDOCK_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'crossdock.db'}"


class Settings(BaseSettings):
    """Every knob of a hub process. Each field is ``CROSSDOCK_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="CROSSDOCK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL. Default: `crossdock.db` in the working directory.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    bootstrap_admin_key: str | None = Field(
        default=None,
        description="If set, an admin client with exactly this key exists after start.",
    )
    contracts_path: Path = Path("contracts")
    mappings_path: Path = Path("mappings")
    governance_path: Path = Path("governance")
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_batch_items: int = Field(default=1000, ge=1, le=10000)
    sqlite_synchronous: str = Field(
        default="FULL",
        pattern="^(OFF|NORMAL|FULL|EXTRA)$",
        description="SQLite `PRAGMA synchronous`. FULL survives power loss; "
        "group commit keeps it cheap.",
    )
    auth_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a verified key is trusted without a database look-up. "
        "A revocation reaches other processes within this time.",
    )
    page_size_max: int = 1000
    secrets_key: str | None = Field(
        default=None,
        description="Fernet key for connection secrets; default: generated once per installation.",
    )
    web_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="`serve` processes sharing the port. More than one uses more cores for "
        "parsing and checking; every process also runs workers, polls and jobs.",
    )
    worker_enabled: bool = Field(default=True, description="Run delivery workers inside `serve`.")
    worker_concurrency: int = Field(default=64, ge=1, le=1024)
    lease_seconds: float = Field(default=60.0, ge=2)
    poll_sync_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How often each process re-reads which connections poll, and how often.",
    )
    log_level: str = "info"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
