"""Settings from the environment (pydantic-settings). Every variable is listed in README.md."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTERWATCH_", extra="ignore")

    mode: Literal["embedded", "kafka"] = Field(
        default="embedded", description="embedded: one process on a local SQLite log; kafka: the real broker"
    )
    data_dir: Path = Field(default=Path("var"), description="embedded log, SQLite read models, local state")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("CHARTERWATCH_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    topic_prefix: str = Field(default="", description="prefix for every topic name")
    kafka_replication_factor: int = Field(default=1, ge=1, le=16, description=(
        "copies of every topic the services create (1: one broker; 3 in production, deploy/kafka/README.md)"))
    kafka_min_insync_replicas: int = Field(default=1, ge=1, le=16, description=(
        "copies that hold a write before the broker acknowledges it (acks=all); 2 in production: one broker "
        "may be lost without losing an acknowledged event, and writes stop rather than go to one copy"))
    database_url: str | None = Field(
        default=None, description=("the database every service shares unless given its own below; "
                                   "default sqlite:///<data_dir>/readmodel.db"))
    intake_database_url: str | None = Field(default=None, description="intake's command store, read model, outbox")
    compensation_database_url: str | None = Field(default=None, description="the compensation ledger and its outbox")
    notify_database_url: str | None = Field(default=None, description="notify's deliveries, inbox and outbox")
    sla_monitor_database_url: str | None = Field(default=None, description="the embedded monitor's runtime tables")
    access_database_url: str | None = Field(default=None, description="API keys, read by every HTTP service")
    vault_database_url: str | None = Field(default=None, description="each case's data key (erasure destroys it)")
    console_database_url: str | None = Field(default=None, description="the console's accounts, sessions, projection")
    webhooks_database_url: str | None = Field(default=None, description="webhook subscriptions, secrets, deliveries")
    vault_database_schema: str | None = Field(default=None, description="PostgreSQL: the vault's schema")
    intake_database_schema: str | None = Field(default=None, description="PostgreSQL: intake's schema in a shared database")
    compensation_database_schema: str | None = Field(default=None, description="PostgreSQL: compensation's schema")
    notify_database_schema: str | None = Field(default=None, description="PostgreSQL: notify's schema")
    sla_monitor_database_schema: str | None = Field(default=None, description="PostgreSQL: the monitor's schema")
    access_database_schema: str | None = Field(default=None, description="PostgreSQL: the API keys' schema")
    console_database_schema: str | None = Field(default=None, description="PostgreSQL: the console's schema")
    webhooks_database_schema: str | None = Field(default=None, description="PostgreSQL: webhooks' schema")
    host: str = "127.0.0.1"
    port: int = 8080
    compensation_port: int = Field(default=8081, description="the compensation API (vouchers, batches, strikes)")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_body_bytes: int = Field(default=256 * 1024, description="larger request bodies get 413")
    append_timeout_s: float = Field(default=10.0, description="how long intake waits for the log before 503")
    pii_keys: str | None = Field(
        default=None,
        description="kid:base64(32 bytes)[,kid:...]; the first encrypts. Default: a key generated into data_dir",
    )
    pseudonym_key: str | None = Field(default=None, description=(
        "base64 of 32 bytes: the key applicant (inbox) references are made with; never rotated, never a PII "
        "key. Default: generated into the data dir (an install whose references were made with its first "
        "PII key keeps that key's bytes, so its inboxes are not split)"))
    # Before this setting the faust worker alone had one (CHARTERWATCH_MONITOR_METRICS_PORT): still read.
    metrics_port: int = Field(
        default=9100, ge=0, le=65535,
        validation_alias=AliasChoices("CHARTERWATCH_METRICS_PORT", "CHARTERWATCH_MONITOR_METRICS_PORT"),
        description=("`charterwatch project` and `charterwatch sla-monitor` (no API of their own) serve /healthz, "
                     "/readyz and /metrics here; 0: not served"))
    monitor_stall_s: float = Field(default=20.0, ge=5, le=600, description=(
        "a fact partition behind and silent this long: the faust worker fetches it again, then restarts"))
    monitor_session_timeout_s: float = Field(default=15.0, ge=6, le=300,
                                             description="a faust worker silent this long loses its partitions")
    duplicate_window_days: int = Field(default=30, ge=0, le=3650,
                                       description="same applicant, near-identical content within this window: linked as a duplicate")
    holiday_overrides_file: Path | None = Field(
        default=None, description="YAML with version, add, remove: temporary holidays declared after release"
    )
    notify_port: int = Field(default=8082, description="notify's API: the homepage inbox the citizen portal reads")
    audit_port: int = Field(default=8083, description="the audit API: a case's replay report")
    console_port: int = Field(default=8084, description="the officials' console (web pages)")
    console_secure_cookies: bool = Field(default=False, description=(
        "mark the console's session cookie Secure even on plain http (behind a TLS proxy that does not "
        "forward X-Forwarded-Proto); https requests always get it"))
    console_compensation_url: str | None = Field(
        default=None, description="the compensation API as the console calls it; default http://127.0.0.1:<compensation_port>")
    console_audit_url: str | None = Field(
        default=None, description="the audit API as the console calls it; default http://127.0.0.1:<audit_port>")
    webhooks_port: int = Field(default=8085, description="the webhooks API (subscriptions, secrets, delivery log)")
    webhooks_allow_private_targets: bool = Field(default=False, description=(
        "allow webhook URLs resolving to private, loopback, link-local or other non-public addresses (a closed "
        "network's own receivers, tests); refused by default (SSRF)"))
    webhooks_retry_hours: float = Field(default=24.0, gt=0, le=168, description=(
        "a delivery is retried (exponential backoff, full jitter) this long after its first attempt, then failed"))
    webhooks_disable_after_days: float = Field(default=3.0, gt=0, le=90, description=(
        "a webhook with no successful delivery since its first failure this long ago is disabled, with a notice"))
    webhooks_concurrency: int = Field(default=4, ge=1, le=64, description="deliveries (of different cases) sent at once")
    webhooks_timeout_s: float = Field(default=10.0, gt=0, le=60, description=(
        "a delivery attempt's read timeout (connect: at most 5 s); no redirect is followed"))
    smtp_host: str | None = Field(default=None, description="unset: e-mails are written under <data dir>/outgoing/email")
    smtp_port: int = 25
    smtp_sender: str = "CharterWatch <noreply@charterwatch.local>"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    sms_gateway_url: str | None = Field(default=None, description="unset: SMS are written under <data dir>/outgoing/sms")
    sms_api_key: str | None = None
    sms_user_id: str = "charterwatch"
    sms_sender: str = Field(default="0000000000", description="the registered sender number (발신번호)")
    notify_attempts: int = Field(default=4, ge=1, le=20, description="attempts per notice before it is given up")
    notify_concurrency: int = Field(default=1, ge=1, le=64, description=(
        "cases whose notices are sent at once; a kill may repeat this many sends (each with its reference)"))
    notify_retry_base_s: float = Field(default=0.5, gt=0, description="first backoff; doubles per attempt")
    clock_file: Path | None = Field(
        default=None,
        description="drills and tests only: the current instant is read from this file (ISO 8601) instead of the wall clock",
    )

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> Settings:
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            # every acks=all write would be refused (NOT_ENOUGH_REPLICAS): say so at start instead
            raise ValueError("CHARTERWATCH_KAFKA_MIN_INSYNC_REPLICAS exceeds CHARTERWATCH_KAFKA_REPLICATION_FACTOR")
        return self

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'readmodel.db').resolve()}"

    def database_for(self, service: str) -> tuple[str, str | None]:
        """(URL, schema) of a service's own database: its ``CHARTERWATCH_<SERVICE>_DATABASE_URL`` (and
        ``_SCHEMA``), falling back to the shared ``CHARTERWATCH_DATABASE_URL``."""
        url = getattr(self, f"{service}_database_url") or self.resolved_database_url()
        return url, getattr(self, f"{service}_database_schema")

    @property
    def embedded_log_path(self) -> Path:
        return self.data_dir / "eventlog.db"
