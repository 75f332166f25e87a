"""The closed sets the feedback views take: review statuses and how rates are split (light, for the CLI)."""

from __future__ import annotations

#: Which items a review view shows.
STATUSES: tuple[str, ...] = ("untagged", "tagged", "all")
#: What acceptance rates can be split by.
GROUP_BY: tuple[str, ...] = ("none", "variant", "model_version")
