"""Settings from the environment (RIVYA_*), read once per process."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUILTIN_CATALOG = Path(__file__).parent / "catalog" / "builtin.yaml"
DEFAULT_MAX_OUTPUT_BYTES = 100 * 1024 * 1024


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
    storage_url: str | None = Field(
        default=None,
        description="Where files live: unset for <data_dir>/files, or "
        "s3://bucket/prefix?endpoint_url=…&region=… for S3-compatible storage.",
    )
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="Largest upload.")
    max_json_bytes: int = Field(default=1024 * 1024, gt=0, description="Largest JSON body.")
    max_header_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request head (request line and headers); beyond it the server "
        "answers 431 and closes the connection.",
    )
    max_image_pixels: int = Field(
        default=40_000_000, gt=0, description="Largest image (width x height) accepted."
    )
    max_output_bytes: int = Field(
        default=DEFAULT_MAX_OUTPUT_BYTES,
        gt=0,
        description="Largest generated output file; a model's answer is read up to this size and "
        "cut off beyond it, and the task fails (refunded).",
    )
    upstream_allow_hosts: str = Field(
        default="",
        description="Comma-separated hosts, addresses or CIDRs that file links handed back by "
        "upstream models may point at although they are not public (development or private "
        "model servers); http is allowed for them.",
    )
    chat_keep_alive_seconds: float = Field(
        default=5.0,
        gt=0,
        description="While a streamed chat turn waits for the model, a keep-alive comment "
        "goes out this often.",
    )
    chat_max_images: int = Field(
        default=10,
        ge=0,
        description="Image parts a chat turn may attach (422 beyond); the model is sent the "
        "conversation's newest images up to this many.",
    )
    shutdown_settle_seconds: float = Field(
        default=5.0,
        ge=0,
        description="On shutdown, how long chat turns still in flight may take to settle "
        "(charge what was produced); the maintenance sweep releases any left after that.",
    )
    upstream_max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections each upstream binding may hold open at once (one per streamed "
        "chat turn in flight); a binding's `max_connections` option overrides it.",
    )
    webhook_allow_hosts: str = Field(
        default="",
        description="Comma-separated hosts, addresses or CIDRs that webhook URLs may point at "
        "although they are not public (development receivers); http is allowed for them.",
    )
    webhook_retry_schedule: tuple[float, ...] = Field(
        default=(5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400),
        description="Seconds before each retry of a failed webhook delivery, after the first, "
        "immediate attempt (jitter is added).",
    )
    webhook_timeout_seconds: float = Field(
        default=15.0, gt=0, description="How long one webhook delivery attempt may take."
    )
    webhook_max_endpoints_per_account: int = Field(
        default=20, ge=1, description="Webhook endpoints an account may have."
    )
    webhook_max_in_flight_per_account: int = Field(
        default=4,
        ge=1,
        description="Webhook deliveries of one account attempted at once, across all workers; "
        "its others wait their turn (delayed, never dropped).",
    )
    webhook_failing_disable_seconds: int = Field(
        default=5 * 24 * 3600,
        gt=0,
        description="An endpoint whose every attempt has failed for this long is disabled.",
    )
    worker_concurrency: int = Field(
        default=8,
        ge=1,
        description="Generations one worker process runs at once (webhook deliveries have "
        "slots of their own).",
    )
    generation_max_running_per_account: int = Field(
        default=6,
        ge=0,
        description="Generations of one account running at once, across all workers (0: no "
        "cap); its others wait, and accounts take turns for the free slots, so that one "
        "account's backlog never stalls another's.",
    )
    worker_webhook_concurrency: int = Field(
        default=16,
        ge=1,
        description="Webhook delivery attempts one worker process makes at once, in slots "
        "apart from generations'.",
    )
    worker_drain_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On shutdown, how long a worker lets running tasks finish before handing "
        "them back to the queue.",
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a worker's claim on a task lasts without a heartbeat; after it, "
        "another worker takes the task over.",
    )
    auth_cache_poll: float = Field(
        default=0.25,
        ge=0,
        description="Seconds between checks for revoked or rotated keys; a revocation takes "
        "effect within this time in every server process. 0 turns the key cache off.",
    )
    rate_limit: str = Field(
        default="600/minute",
        description="Requests per account, in the `limits` notation (e.g. 600/minute or "
        "50/second;2000/hour for the first only); empty turns limits off.",
    )
    auth_failure_limit: str = Field(
        default="30/minute",
        description="Failed authentications per client address (`limits` notation); beyond it, "
        "keys the server does not already know are refused with a 429 before any database "
        "lookup. Empty turns it off.",
    )
    rate_limit_storage: str = Field(
        default="async+memory://",
        description="Where request counts live: async+memory:// (one server) or "
        "async+redis://host:6379 (shared by every server).",
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
