"""The relational schema (SQLAlchemy Core). Migrations in `migrations/versions` create it.

Times are Unix seconds (integers), as the public API shows them; money is integer credits.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("is_dev", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
)

# A key has one secret, or two while a rotation's grace period runs: the old one then carries an
# expires_at. Only the SHA-256 of a secret is kept.
api_key_secrets = Table(
    "api_key_secrets",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column("key_id", String(64), ForeignKey("api_keys.id"), nullable=False, index=True),
    Column("hint", String(8), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
)

wallets = Table(
    "wallets",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), primary_key=True),
    Column("balance", BigInteger, nullable=False, default=0),
    Column("reserved", BigInteger, nullable=False, default=0),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("reserved <= balance", name="reserved_within_balance"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # pending | captured | released
    Column("captured", BigInteger, nullable=True),
    Column("reference", String(128), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger, nullable=True),
    Column("kind", String(16), nullable=False),  # generation | chat: what the hold pays for
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("status IN ('pending', 'captured', 'released')", name="status_known"),
    CheckConstraint("kind IN ('generation', 'chat')", name="kind_known"),
    Index("ix_holds_account_id_status", "account_id", "status"),
    # The maintenance sweep's question: pending holds of a kind, oldest first.
    Index("ix_holds_kind_status_created_at", "kind", "status", "created_at"),
)

# Append-only. Per account, sum(balance_delta) = wallets.balance and sum(reserved_delta) =
# wallets.reserved. The unique (hold_id, kind) makes each settlement step happen at most once.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # grant | reserve | capture | release
    Column("balance_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Column("hold_id", String(64), ForeignKey("holds.id"), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("hold_id", "kind"),
)

# One row. Revoking or rotating a key bumps it in the same transaction; servers poll it to know
# when the API keys they cached may have changed (rivya.auth.cache).
auth_epoch = Table(
    "auth_epoch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("storage_key", String(255), nullable=False, unique=True),
    # Set on outputs of a generation: the task and the output's position in it.
    Column("task_id", String(64), nullable=True, index=True),
    Column("position", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_files_account_id_id", "account_id", "id"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("model", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # queued|running|succeeded|failed|canceled
    Column("input", JSON, nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("error_message", String(500), nullable=True),
    Column("hold_id", String(64), ForeignKey("holds.id"), nullable=True),  # None: free
    Column("price", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("cancel_requested_at", BigInteger, nullable=True),
    CheckConstraint(
        "status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')", name="status_known"
    ),
    Index("ix_tasks_account_id_id", "account_id", "id"),
)

# The queue. One row per unit of work (a generation to run, a webhook to deliver); the domain row
# it refers to holds the state users see. `group_key` names whose job it is (a webhook's account),
# for lanes that cap the jobs of one group running at once. Times in milliseconds.
jobs = Table(
    "jobs",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | done
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("run_at", BigInteger, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", BigInteger, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("group_key", String(64), nullable=True),
    UniqueConstraint("kind", "ref"),
    Index("ix_jobs_kind_status_run_at", "kind", "status", "run_at"),
)

# The transactional outbox: written in the transaction that makes the change it reports.
events = Table(
    "events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_events_account_id_id", "account_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("locked_until", BigInteger, nullable=True),  # set while the first request runs
    Column("response_status", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

chat_sessions = Table(
    "chat_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("model", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_chat_sessions_account_id_id", "account_id", "id"),
)

# A session's messages in order. `content` is a string or a list of content parts (JSON);
# assistant messages carry their usage and the credits charged for them.
chat_messages = Table(
    "chat_messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("session_id", String(64), ForeignKey("chat_sessions.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", JSON, nullable=True),
    Column("name", String(64), nullable=True),
    Column("tool_calls", JSON, nullable=True),
    Column("tool_call_id", String(64), nullable=True),
    Column("usage", JSON, nullable=True),
    Column("credits", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("session_id", "position"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=True),
    Column("events", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(64), nullable=True),
    # Signing needs the secret itself, so it is kept (never shown after creation).
    Column("secret", String(128), nullable=False),
    # During a rotation the old secret signs too, until it expires.
    Column("previous_secret", String(128), nullable=True),
    Column("previous_secret_expires_at", BigInteger, nullable=True),
    # Set at the first failure after a success; an endpoint failing for 5 days is disabled.
    Column("failing_since", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_webhook_endpoints_account_id_id", "account_id", "id"),
)

# One per (event, endpoint): delivered by a job of kind "webhook"; its attempts are logged.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event_id", String(64), ForeignKey("events.id"), nullable=False),
    Column("endpoint_id", String(64), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_webhook_deliveries_event_id", "event_id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempted_at", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(200), nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("next_retry_at", BigInteger, nullable=True),
    Index("ix_webhook_attempts_delivery_id", "delivery_id"),
)
