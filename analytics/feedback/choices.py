"""The closed sets the feedback views take: review statuses and how rates are split (light, for the CLI)."""

from __future__ import annotations

from typing import Literal, get_args

#: Which items a review view shows.
ReviewStatus = Literal["untagged", "tagged", "all"]
STATUSES: tuple[ReviewStatus, ...] = get_args(ReviewStatus)
#: What acceptance rates can be split by.
GROUP_BY: tuple[str, ...] = ("none", "variant", "model_version")
