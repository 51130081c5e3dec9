"""Regenerates samples/mentions.jsonl: demo posts for the two example brands in config.yaml.

    python samples/make_samples.py            # rewrite the committed file (fixed dates, a week of posts)

The committed dates are fixed; the demo source in config.yaml replays them with `shift_to_now`, so the
newest post is an hour old whenever the demo runs and `monitor digest` (yesterday) has posts to show.

Deterministic (fixed seed). Besides ordinary posts it includes the awkward
ones a real feed has: a repeated id, a post by the brand's own account, an
excluded giveaway, a post about neither brand, an empty text and a broken line.
"""
from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVAL = HERE.parent / "tests" / "data" / "complaints_eval.jsonl"

ITEMS = ["desk lamp", "blender", "running shoes", "phone case", "office chair", "kettle", "backpack", "monitor stand"]
CITIES = ["Lisbon", "Dublin", "Madrid", "Rome", "Berlin", "Oslo", "Porto", "Vienna"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

TEMPLATES = [
    "Ordered a {item} from @Pixelcart on {day}, tracking still says label created",
    "@Pixelcart my {item} arrived broken, box was crushed",
    "Pixelcart charged me twice for the {item}. Please sort this out",
    "Third email to Pixelcart support about my {item}, still no reply",
    "Is Pixelcart down? Checkout keeps failing",
    "Love my new {item} from Pixelcart, arrived a day early",
    "Pixelcart's {item} deal this week is a steal",
    "Just ordered a {item} on Pixelcart, fingers crossed for Friday",
    "Does Pixelcart deliver the {item} to Northern Ireland?",
    "Great, Pixelcart cancelled my {item} order again. Brilliant.",
    "@NorthwindAir flight to {city} delayed 3 hours, no updates at the gate",
    "Northwind lost my bag between {city} and home, nobody answers the phone",
    "Northwind Air cancelled my {city} flight with 2 hours notice, rebooking line hung up on me",
    "Smooth flight to {city} with Northwind, crew were lovely",
    "Flying Northwind to {city} on {day}",
    "Northwind's {city} lounge is fantastic, no complaints",
    "@NorthwindAir is the app down? Can't check in for {city}",
    "Northwind charged me for a bag on my {city} flight that was included in the fare",
    "Thanks Northwind for sorting my {city} rebooking so quickly",
    "Does Northwind Air allow pets in the cabin to {city}?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "mentions.jsonl", help="where to write them")
    args = parser.parse_args()
    lines = generate()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} sample lines to {args.out}")


def generate() -> list[str]:
    rng = random.Random(20261125)  # noqa: S311 - a fixed, reproducible sample, not a secret
    start = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    texts = [json.loads(line)["text"] for line in EVAL.read_text(encoding="utf-8").splitlines()]
    texts = [t for t in texts if "pixelcart" in t.lower() or "northwind" in t.lower()]
    for template in TEMPLATES:
        for _ in range(9):
            texts.append(template.format(item=rng.choice(ITEMS), city=rng.choice(CITIES), day=rng.choice(DAYS)))
    rng.shuffle(texts)
    records = []
    for i, text in enumerate(texts):
        name = rng.choice(["sam", "alex", "jo", "maria", "li", "omar", "kate", "dev", "noor", "tom"])
        author = f"{name}_{rng.randint(1, 999)}"
        reach = int(rng.paretovariate(1.1) * 40)
        when = start + timedelta(minutes=int(i * 7 * 24 * 60 / len(texts)) + rng.randint(0, 50))
        records.append({"id": f"s{i + 1:04d}", "text": text, "author": author, "author_reach": reach,
                        "url": f"https://social.example/{author}/status/{i + 1}", "lang": "en",
                        "created_at": when.isoformat().replace("+00:00", "Z")})
    edge = {"url": None, "lang": "en", "created_at": (start + timedelta(days=6)).isoformat()}
    records += [
        dict(records[3]),  # the same post delivered twice by an upstream tool
        {"id": "own1", "text": "We're sorry for the delays today, our team is on it. DM us your order number.",
         "author": "PixelcartHelp", "author_reach": 52000, "brand": "Pixelcart", **edge},
        {"id": "give1", "text": f"Pixelcart GIVEAWAY! Retweet to win a {ITEMS[0]} worth £200",
         "author": "deals_bot", "author_reach": 900, **edge},
        {"id": "other1", "text": "My cat knocked over my coffee again. Worst morning ever.",
         "author": "random_person", "author_reach": 12, **edge},
        {"id": "empty1", "text": "   ", "author": "ghost", **edge},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.insert(len(lines) // 2, '{"id": "broken", "text": "this line was cut off mid-wr')
    return lines


if __name__ == "__main__":
    main()
