"""Configuration: ``config.yaml`` validated into typed sections and per-component schemas."""
from monitor.config.components import (
    ComponentConfig,
    HttpSourceConfig,
    NetworkSourceConfig,
    ReviewAppConfig,
    SinkConfig,
    SourceConfig,
)
from monitor.config.loader import (
    DEFAULT_CONFIG_PATH,
    Component,
    Config,
    ConfigError,
    load_config,
    parse_config,
)
from monitor.config.sections import (
    DEFAULT_TOPICS,
    AlertsConfig,
    BrandConfig,
    DatabaseConfig,
    DeliveryConfig,
    DigestConfig,
    HttpConfig,
    LoggingConfig,
    OpsConfig,
    RootConfig,
    RouteConfig,
    ScoringConfig,
    ServiceConfig,
    brand_slug,
)
from monitor.config.values import Duration, StrictModel, TimeZoneName, parse_duration

__all__ = [
    "AlertsConfig", "BrandConfig", "Component", "ComponentConfig", "Config", "ConfigError", "DatabaseConfig",
    "DEFAULT_CONFIG_PATH", "DEFAULT_TOPICS", "DeliveryConfig", "DigestConfig", "Duration", "HttpConfig",
    "HttpSourceConfig",
    "LoggingConfig", "NetworkSourceConfig", "OpsConfig", "ReviewAppConfig", "RootConfig", "RouteConfig",
    "ScoringConfig", "ServiceConfig", "SinkConfig", "SourceConfig", "StrictModel", "TimeZoneName", "brand_slug",
    "load_config", "parse_config",
    "parse_duration",
]
