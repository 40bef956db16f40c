"""Process settings, read from the environment with the ``CROSSDOCK_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hub.clients.ratelimits import check_rate_limit


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
    usage_flush_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="How often each process writes the contract usage it counted in memory "
        "(who produced and consumed which version; `/v1/contracts/{family}/usage`).",
    )
    rate_limit: str = Field(
        default="1000/second",
        description="Requests per client, for clients without their own limit, in the notation "
        "of the `limits` library (`1000/second`, `20000/minute`). Moving window, kept in "
        "memory by each hub process.",
    )
    outbound_allowed_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Networks connections may send to on top of the outbound address policy "
        "of governance/hub.yaml, comma-separated (`127.0.0.1/32,::1/128`): a local test "
        "endpoint, say.",
    )

    @field_validator("rate_limit")
    @classmethod
    def _one_rate_limit(cls, value: str) -> str:
        return check_rate_limit(value)

    @field_validator("outbound_allowed_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            # Commas, or a JSON array like the other list settings.
            text = value.strip().removeprefix("[").removesuffix("]")
            return [part.strip(" \"'") for part in text.split(",") if part.strip(" \"'")]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
