"""Cost: aggregates from the inference log, prices, the scaling law, what-if scenarios and return on investment."""

import lazy_loader

# Names load on first use (PEP 562): `python -m analytics --help` stays fast, and a caller pays only for
# the modules it uses. Every public name of the package is listed here.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["aggregates", "prices", "roi", "scaling", "whatif"],
    submod_attrs={
        "aggregates": [
            "ALL_MODELS",
            "CostData",
            "DAYS_PER_MONTH",
            "EXACT_LIMIT",
            "LATENCY_SAMPLE_ROWS",
            "PERIOD_DAYS",
            "RUN_RATE_DAYS",
            "UnitCosts",
            "cost_sql",
            "load_costs",
            "monthly_cost",
            "per_user_by_model",
            "top_users",
            "unit_costs",
            "with_weeks",
        ],
        "prices": ["Price", "SuggestedPrice", "get_prices", "set_prices", "suggested_prices", "token_cost"],
        "roi": ["ArmSums", "Estimate", "UnitEconomics", "VariantEconomics", "fetch_arms", "unit_economics"],
        "scaling": [
            "MIN_POINTS",
            "MULTIPLES",
            "Projection",
            "ScalingFit",
            "curve",
            "fit_power_law",
            "project",
        ],
        "whatif": [
            "BUDGET_KEY",
            "Budget",
            "CostSummary",
            "WhatIf",
            "apply_whatif",
            "budget_status",
            "get_budget",
            "set_budget",
            "summarize",
            "weekly_points",
        ],
    },
)
