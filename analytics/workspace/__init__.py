"""The workspace: one DuckDB file (or Spark tables) holding the data, who may do what, and what it holds."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["access", "export", "inventory", "schema", "spark", "store"],
    submod_attrs={
        "access": [
            "ACTIONS",
            "AUDIT_AREAS",
            "Actor",
            "ROLES",
            "Role",
            "RoleRule",
            "SETTINGS_KEY",
            "audit_log",
            "cli_actor",
            "get_rules",
            "local_actor",
            "remove_rules",
            "require",
            "resolve",
            "set_rules",
            "upsert_rules",
        ],
        "export": ["FORMULA_START", "neutralise", "safe_csv_bytes", "safe_frame"],
        "inventory": [
            "Catalog",
            "EXACT_USERS_MAX_ROWS",
            "ExperimentSummary",
            "MIN_SAMPLED_USERS",
            "TableSummary",
            "UNMATCHED",
            "USER_BUCKETS",
            "VariantSummary",
            "catalog",
            "experiment_names",
            "exposure_ctes",
            "list_experiments",
            "load_history",
            "table_summary",
            "unmatched_predictions",
        ],
        "schema": ["CANONICAL", "DEFAULT_DB", "KINDS", "PERIODS", "Period", "REVIEW_ACTIONS"],
        "store": [
            "MIGRATIONS",
            "SCHEMA_VERSION",
            "Workspace",
            "engine_version",
            "open_workspace",
            "quote_ident",
        ],
    },
)
