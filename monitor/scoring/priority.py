"""Priority from 0 to 100: how sure and how negative the complaint is, weighted by how many people see it."""
from __future__ import annotations

import math


def reach_priority(confidence: float, compound: float, reach: int, reach_cap: int) -> float:
    # Reach counts on a log scale up to reach_cap: a post seen by a million matters more than one seen by
    # ten, but a complaint nobody sees still gets 40% of the weight.
    reach_factor = min(1.0, math.log10(1 + max(0, reach)) / math.log10(1 + reach_cap))
    negativity = max(0.0, -compound)
    return round(100 * confidence * (0.75 + 0.25 * negativity) * (0.4 + 0.6 * reach_factor), 2)
