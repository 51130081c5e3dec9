"""The ``retention`` section: how long other people's words, names and links are kept. Counts and scores stay
(digests and trends read them); the personal fields of an expired post are cleared by the nightly purge."""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from monitor.config.values import StrictModel

MAX_DAYS = 36_500


def _days(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "forever"):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        days = value
    else:
        match = re.fullmatch(r"(\d+)\s*d", str(value).strip().lower()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"expected a number of days like 180d, or forever; got {value!r}")
        days = int(match.group(1))
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"expected 1d to {MAX_DAYS}d, or forever; got {value!r}")
    return days


#: a retention period in whole days; None keeps forever
Days = Annotated[int | None, BeforeValidator(_days)]


class RetentionConfig(StrictModel):
    mentions: Days = Field(365, description="complaints: their text, author and link are kept this long after "
                           "they were posted (a post whose case is still open or claimed is kept); forever keeps "
                           "them")
    non_complaints: Days = Field(30, description="posts that are not complaints: kept this long after posting")
    cases_closed: Days = Field(365, description="the words of the replies to a case are kept this long after the "
                               "case was resolved or dismissed")
    labels: Days = Field(365, description="the text of labels given on bare text (labels import) is kept this "
                         "long; labels on stored posts hold no text of their own")
    deletion_check_days: int = Field(7, ge=0, le=30, description="each night, the complaints stored in this many "
                                     "last days are looked up at their network (X, Reddit, Bluesky, Mastodon with a "
                                     "token) and those "
                                     "deleted there are cleared; 0 turns the check off")
    batch_size: int = Field(1000, ge=10, le=50_000, description="rows cleared per transaction, so the pipeline "
                            "never waits long for the purge")
    time: str = Field("04:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="when the nightly purge runs "
                      "(HH:MM, digest timezone)")
