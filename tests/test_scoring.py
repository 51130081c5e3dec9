"""The complaint detector: hard cases, reasons, topics, priority, config tuning, and the eval-set floor."""
from __future__ import annotations

import json

import pytest

from monitor.config import ScoringConfig
from monitor.scoring import ComplaintScorer, tokenize
from tests.support import ROOT


@pytest.fixture(scope="module")
def scorer():
    return ComplaintScorer()


@pytest.mark.parametrize("text", [
    "ordered on the 3rd, still no delivery",
    "Great, another 2 hour wait",
    "is pixelcart down? can't log in",
    "Pixelcart charged me twice for the same order",
    "emailed support four times, not a single reply",
    "I want to cancel my subscription, the site errors out every time",
    "Thanks for nothing @pixelcart",
    "the app crashes every time I try to pay 😡",
])
def test_complaints_that_raw_vader_misses_or_flags(scorer, text):
    score = scorer.score(text)
    assert score.is_complaint, score.reasons


@pytest.mark.parametrize("text", [
    "I hate Mondays but love my coffee",
    "No complaints, delivery came when they said",
    "Pixelcart used to be terrible at shipping but they've really improved",
    "Can't wait for my order to arrive!!",
    "Killer deals today 🔥",
    "The app was down earlier but it's working again now",
    "Does pixelcart ship to Ireland?",
])
def test_not_complaints(scorer, text):
    score = scorer.score(text)
    assert not score.is_complaint, score.reasons


def test_reasons_say_why(scorer):
    score = scorer.score("Still waiting for my refund, nobody answers the phone")
    rules = {r["rule"] for r in score.reasons}
    assert {"waiting", "no_reply", "vader"} <= rules
    assert all("label" in r for r in score.reasons)
    vader = next(r for r in score.reasons if r["rule"] == "vader")
    assert vader["score"] == score.compound


def test_topic_follows_keywords(scorer):
    assert scorer.score("charged twice, need a refund").topic == "billing"
    assert scorer.score("the courier lost my parcel").topic == "delivery"
    assert scorer.score("hello there").topic == "other"


def test_custom_topics():
    scorer = ComplaintScorer(topics={"app": ["crash", "login"], "store": ["shop"]})
    assert scorer.score("app crash again").topic == "app"


def test_priority_grows_with_reach_and_stays_bounded(scorer):
    text = "Terrible service, still no refund after 3 weeks"
    low, high, huge = (scorer.score(text, reach).priority for reach in (0, 50_000, 10**12))
    assert 0 < low < high <= huge <= 100
    assert scorer.score("lovely day", 10**9).priority == 0


def test_extra_terms_and_threshold_are_tunable():
    plain = ComplaintScorer()
    text = "my tamagotchi widget went kaput"
    assert not plain.score(text).is_complaint
    tuned = ComplaintScorer(ScoringConfig(extra_terms={"went kaput": 1.5}))
    score = tuned.score(text)
    assert score.is_complaint and any(r["rule"] == "custom" for r in score.reasons)
    strict = ComplaintScorer(ScoringConfig(complaint_threshold=0.99))
    assert not strict.score("still waiting for my refund").is_complaint


def test_ignore_terms_mask_product_names():
    text = "just bought the Crash Bandicoot bundle"
    tuned = ComplaintScorer(ScoringConfig(ignore_terms=["crash bandicoot"]))
    assert not any(r["rule"] == "broken" for r in tuned.score(text).reasons)


def test_tokenize_normalises_contractions_and_numbers():
    assert tokenize("Doesnt work, 2hrs on hold") == ["doesn't", "work", "2", "hrs", "on", "hold"]


def test_score_many_matches_score(scorer):
    texts = [("still no refund", 10), ("love it", 0)]
    assert [s.is_complaint for s in scorer.score_many(texts)] == [True, False]


def _eval_rows() -> list[dict]:
    return [json.loads(line) for line in (ROOT / "tests/data/complaints_eval.jsonl").read_text().splitlines()]


def _f1(pairs: list[tuple[bool, bool]]) -> float:
    tp = sum(truth and pred for truth, pred in pairs)
    wrong = sum(truth != pred for truth, pred in pairs)
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def test_eval_set_covers_industries_with_a_fixed_held_out_split():
    rows = _eval_rows()
    assert len(rows) >= 1000
    assert len({r["text"] for r in rows}) == len(rows)
    assert {r["split"] for r in rows} == {"dev", "heldout"}
    for split in ("dev", "heldout"):
        chosen = [r for r in rows if r["split"] == split]
        assert 0.4 < len(chosen) / len(rows) < 0.6
        assert 0.4 < sum(r["complaint"] for r in chosen) / len(chosen) < 0.6
    domains = {d for d in (r["domain"] for r in rows) if sum(r["domain"] == d for r in rows) >= 30}
    assert {"retail", "telecom", "airlines", "banking", "software", "food", "cars", "utilities", "games"} <= domains


def test_detector_floor_on_the_held_out_split_and_margin_over_vader(scorer):
    """A regression floor on posts tuning never reads (measured 0.805; `make quality` prints the figures)."""
    held = [r for r in _eval_rows() if r["split"] == "heldout"]
    scores = [scorer.score(r["text"]) for r in held]
    f1 = _f1([(r["complaint"], s.is_complaint) for r, s in zip(held, scores, strict=True)])
    vader_f1 = _f1([(r["complaint"], s.compound <= -0.05) for r, s in zip(held, scores, strict=True)])
    assert f1 >= 0.78, f1
    assert f1 - vader_f1 >= 0.25, (f1, vader_f1)


def test_detector_keeps_what_tuning_reached_on_the_dev_split(scorer):
    """The dev split is what the rules were tuned on (measured 0.958): a rule that stops firing, fires
    everywhere or breaks on an odd post shows here first, before the held-out figure moves."""
    dev = [r for r in _eval_rows() if r["split"] == "dev"]
    f1 = _f1([(r["complaint"], scorer.score(r["text"]).is_complaint) for r in dev])
    assert f1 >= 0.95, f1


@pytest.mark.parametrize("text, rule", [
    ("@acmehelp the printer won't print double sided any more", "thing_failed"),
    ("@acmehelp ordered the blue kettle, received a red toaster", "swap"),
    ("@acmehelp returned the boots on the 4th of june and heard nothing", "acted_ago"),
    ("@acmehelp the form still says my address is in Leeds", "persisting"),
    ("@acmehelp we couldn't print the e-ticket you sent", "writer_blocked"),
    ("@acmehelp £9 for delivery on a £5 order. seriously?", "rhetorical"),
    ("@acmehelp the screen goes black whenever i plug the charger in", "failure"),
    ("@acmehelp 4th week in a row the bins weren't collected", "expectation"),
    ("@acmehelp 3 yrs a customer and you're ripping pensioners off with these fees", "accusation"),
    ("@acmehelp how come my parcel went to Leeds when i live in Hull", "fault_question"),
    ("@acmehelp how do i reach an actual human, the bot keeps sending me in circles", "unreachable"),
    ("@acmehelp please assist, the atm swallowed my card and it won't give it back", "help_request"),
])
def test_implicit_complaints_name_the_shape_that_caught_them(scorer, text, rule):
    score = scorer.score(text)
    assert score.is_complaint, score.reasons
    assert rule in {r["rule"] for r in score.reasons}, score.reasons


@pytest.mark.parametrize("text, guard", [
    ("@jo_b We're sorry to hear your order is late, Jo. Please DM us your order number. ^Acme", "brand_voice"),
    ("entered the @acme giveaway, waiting for the result now 🤞", "hope"),
    ("@acmehelp how do i make a complaint about a member of staff? want to do it properly", "process"),
    ("acme app offline tonight from 10 for planned maintenance", "process"),
    ("regulators sue to block the acme merger", "idiom"),
])
def test_false_alarms_are_disarmed_by_their_context(scorer, text, guard):
    score = scorer.score(text)
    assert not score.is_complaint, score.reasons
    if guard != "idiom":
        assert guard in {r["rule"] for r in score.reasons}, score.reasons


def test_generic_grumbles_count_only_in_a_customer_context(scorer):
    assert not scorer.score("smh the traffic is frozen solid again").is_complaint
    assert not scorer.score("no idea what to cook tonight, always pasta again").is_complaint
    assert scorer.score("@acmehelp smh the app is frozen again").is_complaint


def test_a_post_addressed_to_the_brand_needs_less_evidence(scorer):
    plain = scorer.score("acme order was booked for the 3rd, ordered the large and got the small")
    addressed = scorer.score("@acmehelp order was booked for the 3rd, ordered the large and got the small")
    assert addressed.confidence > plain.confidence


def test_reasons_carry_a_label_and_never_an_empty_match(scorer):
    score = scorer.score("@acmehelp it says 'processing' and the app won't let me cancel. really?")
    assert score.is_complaint
    for reason in score.reasons:
        assert reason["label"]
        assert reason.get("match", "x") != ""


@pytest.mark.parametrize("text, sarcastic", [
    ("@pixelcart great service, 3 hours on hold /s", True),
    ("pixelcart support replied within a day /s.", True),
    ("@pixelcart the banner says <script>alert(1)</script> on the homepage, thanks for fixing", False),
    ("pixelcart order tracked at https://pixelcart.example/status/123 and arrived fine", False),
])
def test_sarcasm_tag_only_when_it_stands_alone(scorer, text, sarcastic):
    reasons = scorer.score(text).reasons
    assert any(r["rule"] == "sarcasm" and r["match"] == "/s" for r in reasons) is sarcastic


@pytest.mark.parametrize("text, rule, match", [
    ("@acmehelp my deposit wasn't credited to the account", "negated_event", "wasn't credited"),
    ("@acmehelp my voucher never got applied at checkout", "negated_event", "never got applied"),
    ("@acmehelp picked the window seat online, got put in the middle row", "swap",
     "picked the window seat online got put"),
    ("@acmehelp brilliant, delayed again", "sarcasm", "brilliant delayed"),
    ("@acmehelp wow. cancelled again", "sarcasm", "wow cancelled"),
    ("@acmehelp love the new update 🙃", "sarcasm", "🙃"),
    ("@acmehelp my order is a week late 😡", "emoji", "😡"),
    ("@acmehelp the app crashed twice, at least the support team sorted it quickly", "contrast",
     "at least the support team sorted"),
    ("@acmehelp app crashed twice. thank god the chat team sorted it in minutes", "contrast",
     "thank god the chat team sorted"),
])
def test_each_cue_says_what_it_matched(scorer, text, rule, match):
    said = [{"rule": r["rule"], "match": r.get("match")} for r in scorer.score(text).reasons]
    assert {"rule": rule, "match": match} in said


@pytest.mark.parametrize("text, reason", [
    ("@acmehelp brilliant, delayed again", {"rule": "sarcasm", "label": "sarcasm", "match": "brilliant delayed"}),
    ("@acmehelp love the new update 🙃", {"rule": "sarcasm", "label": "sarcasm", "match": "🙃"}),
    ("@acmehelp thanks for nothing", {"rule": "sarcasm", "label": "sarcasm", "match": "thanks for nothing"}),
    ("@acmehelp great service, 3 hours on hold /s", {"rule": "sarcasm", "label": "sarcasm", "match": "/s"}),
    ("@acmehelp my order is a week late 😡", {"rule": "emoji", "label": "angry emoji", "match": "😡"}),
    ("@acmehelp the app crashed twice, at least the support team sorted it quickly",
     {"rule": "contrast", "label": "ends on a positive note", "match": "at least the support team sorted"}),
])
def test_reasons_are_recorded_whole(scorer, text, reason):
    """What an agent reads in an alert: the rule, its label and the words, exactly once."""
    reasons = scorer.score(text).reasons
    assert [r for r in reasons if r["rule"] == reason["rule"]] == [reason]


@pytest.mark.parametrize("compound, ignore_positive, ignore_negative, factor, cheer, expected", [
    (-0.05, False, False, 1.0, 1.0, 0.25),   # just negative: a little support
    (-0.3, False, False, 1.0, 1.0, 0.45),
    (-0.6, False, False, 1.0, 1.0, 0.6),     # strongly negative: the most VADER can add
    (-0.6, False, False, 0.5, 1.0, 0.3),     # off a customer context, or before a happy ending
    (-0.9, False, True, 1.0, 1.0, 0.0),      # an innocent idiom: its negativity counts for nothing
    (-0.04, False, False, 1.0, 1.0, 0.0),    # neutral
    (0.29, False, False, 1.0, 1.0, 0.0),
    (0.3, False, False, 1.0, 1.0, -0.35),    # cheerful argues against
    (0.6, False, False, 1.0, 1.0, -0.7),
    (0.6, False, False, 1.0, 0.5, -0.35),    # several cues: cheerful words weigh less
    (0.9, True, False, 1.0, 1.0, 0.0),       # sarcasm or a complaint at the end: cheer is not trusted
])
def test_vader_evidence_by_compound(compound, ignore_positive, ignore_negative, factor, cheer, expected):
    from monitor.scoring.scorer import _vader_evidence

    assert _vader_evidence(compound, ignore_positive, ignore_negative, factor, cheer) == pytest.approx(expected)


@pytest.mark.parametrize("text, sarcastic, evidence, match", [
    ("late 😡", False, 0.5, "😡"),
    ("late 😡😡😡", False, 0.5, "😡"),            # the same emoji again adds nothing
    ("late 🤬 😡", False, 0.8, "😡🤬"),           # two kinds: capped at 0.8, listed in order
    ("late 🤬😡😤", False, 0.8, "😡😤🤬"),
    ("arrived 😍", False, -0.4, None),
    ("arrived 😍", True, 0.0, None),             # a heart next to sarcasm is not praise
    ("late 😡 but 😍", False, 0.1, "😡"),
    ("late :(", False, 0.0, None),
])
def test_emoji_evidence(scorer, text, sarcastic, evidence, match):
    reasons: list[dict] = []
    assert scorer._emoji_evidence(text, sarcastic, reasons) == pytest.approx(evidence)
    assert reasons == ([{"rule": "emoji", "label": "angry emoji", "match": match}] if match else [])


def test_guards_add_up_to_their_floor_and_count_a_span_once(scorer):
    from monitor.scoring.phrases import Match

    tokens = "no issues at all no problems here really no issues".split()
    guards = [Match("no_problem", 0, 2, -1.5), Match("no_problem", 0, 2, -1.5), Match("no_problem", 4, 6, -1.5),
              Match("no_problem", 9, 11, -1.5), Match("idiom", 7, 8, 0.0), Match("hope", 7, 8, -0.6)]
    reasons: list[dict] = []
    # -1.5, the same span again skipped, then -1.5 more floored at -2.0 and nothing after; hope -0.6 on its own.
    assert scorer._guard_evidence(guards, tokens, reasons) == pytest.approx(-2.6)
    assert reasons == [{"rule": "no_problem", "label": "says there is no problem", "match": "no issues"},
                       {"rule": "no_problem", "label": "says there is no problem", "match": "no problems"},
                       {"rule": "hope", "label": "hoping, not complaining", "match": "really"}]


@pytest.mark.parametrize("confidence, compound, reach, expected", [
    (1.0, -1.0, 0, 40.0),           # nobody sees it: 40% of the weight
    (1.0, -1.0, -5, 40.0),          # a negative reach is no reach
    (1.0, -1.0, 99_999, 100.0),     # at the cap
    (1.0, -1.0, 10**9, 100.0),      # beyond it: no more
    (0.5, 0.2, 99, 26.25),          # log scale: 100 of 10,000 is halfway; a positive compound adds nothing
    (1.0, -0.5, 0, 35.0),           # half as negative: 0.75 + 0.25 * 0.5
    (0.1234, 0.0, 0, 3.7),          # two decimals
])
def test_reach_priority(confidence, compound, reach, expected):
    from monitor.scoring.priority import reach_priority

    cap = 9_999 if reach == 99 else 99_999
    assert reach_priority(confidence, compound, reach, cap) == expected


def test_a_topic_tie_goes_to_the_topic_listed_first():
    text = "the shop app crash"
    assert ComplaintScorer(topics={"app": ["crash"], "store": ["shop"]}).score(text).topic == "app"
    assert ComplaintScorer(topics={"store": ["shop"], "app": ["crash"]}).score(text).topic == "store"


def _clause_matches(rule: str, text: str, compound: float = -0.5, lexical: bool = True) -> list[str]:
    from monitor.scoring import clauses

    tokens = tokenize(text)
    context = clauses.post_context(text, tokens)
    cues = clauses.structural_cues(text, tokens, set(), context, compound, lexical)
    return [" ".join(tokens[m.start:m.end]) for m in cues if m.rule == rule]


@pytest.mark.parametrize("rule, text, expected", [
    ("thing_failed", "the printer won't print", ["printer won't print"]),
    *[("thing_failed", f"the app doesn't {adverb} sync", [f"app doesn't {adverb} sync"])
      for adverb in ("still", "even", "always", "ever", "actually", "properly")],
    ("thing_failed", "the door won't even", ["door won't even"]),  # the adverb is all there is after it
    ("thing_failed", "i won't print", []),                # the writer, not a thing
    ("thing_failed", "@acme won't answer", []),           # a handle is a someone
    ("thing_failed", "the app doesn't matter", []),       # not a failure
    ("thing_failed", "the app won't 2fa", []),            # not a word
    ("thing_failed", "won't start", []),                  # no subject
    ("thing_failed", "my car won't", []),                 # no verb
    ("writer_blocked", "i can't log in", ["i can't log"]),
    ("writer_blocked", "we couldn't board the plane", ["we couldn't board"]),
    ("writer_blocked", "I CAN'T LOG IN", ["i can't log"]),
    ("writer_blocked", "i can't wait", []),
    ("writer_blocked", "they can't board", []),
    ("writer_blocked", "so i can't", []),
    ("writer_blocked", "i can't 2fa", []),
    ("negated_event", "my refund hasn't arrived", ["hasn't arrived"]),
    ("negated_event", "it hasn't even yet arrived", ["hasn't even yet arrived"]),
    ("negated_event", "the card wasn't activated", ["wasn't activated"]),  # any past participle
    ("negated_event", "it wasn't used", []),               # too short to be one
    ("negated_event", "i wasn't impressed", []),           # a feeling, not an event
    ("negated_event", "it wasn't", []),
    ("acted_ago", "returned the boots 3 weeks ago", ["returned the boots 3 weeks"]),
    ("acted_ago", "reported it on monday", ["reported it on monday"]),
    ("acted_ago", "emailed one two three four five six seven since",
     ["emailed one two three four five six seven since"]),
    ("acted_ago", "emailed one two three four five six seven eight since", []),  # too far apart
    ("acted_ago", "ordered it", []),
    ("persisting", "the tracker still shows pending", ["still shows"]),
    ("persisting", "the light is on still blinking", ["still blinking"]),
    ("persisting", "still love it", []),
    ("persisting", "it is still", []),
    ("swap", "ordered black trainers and received a pair of sandals", ["ordered black trainers and received a"]),
    ("swap", "ordered shoes socks got a", ["ordered shoes socks got a"]),
    ("swap", "ordered shoes socks hats coats bags belts gloves scarves got a",
     ["ordered shoes socks hats coats bags belts gloves scarves got a"]),
    ("swap", "ordered shoes socks hats coats bags belts gloves scarves ties got a", []),  # too far apart
    ("swap", "ordered, got a reply", []),                  # nothing named between them
    ("quoted_status", "@acme it says 'processing' for days", [""]),
    ("quoted_status", "it says 'processing' for days", []),  # only in a post to the brand
    ("quoted_status", "@acme it's been a week and it's still the same", []),  # apostrophes are not quotes
    ("quoted_status", "@acme don't know why it won't load", []),
    ("quoted_status", "@acme i'm not sure why i'm charged", []),
])
def test_clause_rules_match_exactly_what_they_describe(rule, text, expected):
    assert _clause_matches(rule, text) == expected


@pytest.mark.parametrize("text, compound, expected", [
    ("@acme one two three four five six", 0.29, True),
    ("@acme one two three four five six", 0.3, False),   # cheerful enough
    ("@acme one two three four five", -0.5, False),      # too short to be a statement
    ("@acme do two three four five six", -0.5, False),   # a question for information
    ("@acme one do three four five six", -0.5, True),
    ("acme one two three four five six", -0.5, False),   # not written to anyone
])
def test_a_statement_to_the_brand(text, compound, expected):
    from monitor.scoring import clauses

    tokens = tokenize(text)
    assert bool(clauses.to_brand_statement(tokens, clauses.post_context(text, tokens), compound)) is expected


def test_the_statement_prior_needs_another_sign_or_negativity():
    text = "@acme please change my delivery address today"
    assert _clause_matches("to_brand", text, compound=-0.05, lexical=False) == [""]
    assert _clause_matches("to_brand", text, compound=-0.04, lexical=False) == []
    assert _clause_matches("to_brand", text, compound=0.0, lexical=True) == [""]


@pytest.mark.parametrize("text, addressed, customer, handles", [
    ("@ACME won't load", True, True, {"acme"}),
    ("thanks @acme and @Bob", False, True, {"acme", "bob"}),
    ("you lost it", False, True, set()),
    ("my order", False, True, set()),
    ("the weather", False, False, set()),
    ("mail me at jo@example.com", False, False, {"example"}),  # an e-mail address is no sign of a customer
])
def test_post_context(text, addressed, customer, handles):
    from monitor.scoring import clauses

    context = clauses.post_context(text, tokenize(text))
    assert (context.addressed, context.customer, context.handles) == (addressed, customer, frozenset(handles))


def test_patterns_expand_their_slots():
    from monitor.scoring.phrases import Match, PhraseMatcher

    matcher = PhraseMatcher()
    matcher.add("{Red|blue} car", "colour")
    matcher.add("waited # hours", "waited")
    matcher.add("my * broke", "broke")
    text = "the blue car, waited 3 hours, my phone broke, red car, waited three hours, my broke"
    found = matcher.find(tokenize(text))
    assert found == [Match("colour", 1, 3, 0.0), Match("waited", 3, 6, 0.0), Match("broke", 6, 9, 0.0),
                     Match("colour", 9, 11, 0.0), Match("waited", 11, 14, 0.0)]


def test_tokens_straighten_curly_apostrophes_and_drop_quote_marks():
    assert tokenize("I don’t know ‘quoted’ 'x' it’s") == ["i", "don't", "know", "quoted", "x", "it's"]


@pytest.mark.parametrize("text, expected", [
    ("but it works", (0, False)),
    ("luckily it works", (0, True)),            # relief: what follows is on the good side
    ("it broke at least", (2, True)),
    ("works though it broke", (1, False)),
    ("bad but meh however fine", (3, False)),   # the last marker counts
    ("it broke but", (None, False)),            # nothing after it
    ("it broke", (None, False)),
])
def test_contrast_position(scorer, text, expected):
    assert scorer._contrast_position(tokenize(text)) == expected


@pytest.mark.parametrize("tokens, sign", [
    (["great"], 1), (["not", "great"], -1), (["not", "a", "very", "great"], -1),
    (["not", "a", "bit", "too", "great"], 1),   # a negator counts over three words back, no further
])
def test_valence_after_a_contrast_flips_under_a_negator(scorer, tokens, sign):
    assert scorer._valence_sum(tokens) == pytest.approx(sign * scorer._valence["great"])


def test_valence_adds_up_and_unknown_words_count_nothing(scorer):
    expected = scorer._valence["great"] + scorer._valence["good"]
    assert scorer._valence_sum(["great", "table", "good"]) == pytest.approx(expected)


@pytest.mark.parametrize("tokens, start, rule, negated", [
    (["not", "broken"], 1, "broken", True),
    (["not", "really", "that", "broken"], 3, "broken", True),
    (["not", "at", "all", "really", "broken"], 4, "broken", False),  # too far back
    (["never", "broken"], 1, "waiting", False),                      # only some rules can be negated
    (["not", "not"], 1, "broken", False),                            # the cue is itself the negator
])
def test_a_negator_just_before_a_cue_cancels_it(scorer, tokens, start, rule, negated):
    from monitor.scoring.phrases import Match

    assert scorer._negated(Match(rule, start, start + 1, 1.0), tokens) is negated


def test_a_topic_mentioned_more_wins():
    scorer = ComplaintScorer(topics={"app": ["crash"], "store": ["shop"]})
    assert scorer.score("shop shop app crash").topic == "store"


@pytest.mark.parametrize("text, rule, matched", [
    ("@acme no issues at all with the new app", "no_problem", ["no issues"]),
    ("@acme refund came through, all sorted now", "resolved", ["refund came", "all sorted now"]),
])
def test_no_problem_and_solved_problems_disarm_a_post_and_say_so(scorer, text, rule, matched):
    score = scorer.score(text)
    assert not score.is_complaint
    assert [r["match"] for r in score.reasons if r["rule"] == rule] == matched


@pytest.mark.parametrize("text", ["no issues", "all sorted now", "killing it", "fingers crossed", "dm us",
                                  "how do i make a complaint"])
def test_each_guard_weighs_what_its_table_says(scorer, text):
    from monitor.scoring.scorer import GUARDS

    [guard] = [m for m in scorer._phrases.find(tokenize(text)) if m.rule in GUARDS]
    assert guard.weight == GUARDS[guard.rule][1]


def test_a_custom_term_is_labelled_as_one():
    scorer = ComplaintScorer(ScoringConfig(extra_terms={"meltdown": 1.2}))
    reasons = scorer.score("@acme another meltdown at checkout").reasons
    assert {"rule": "custom", "label": "custom term", "match": "meltdown"} in reasons


@pytest.mark.parametrize("text", [
    "the app is down again, can't log in to pay my bill before it's due",
    "site's been down all morning so my refund request is just stuck",
    "checkout page won't load, was trying to pay the invoice since 9",
    "outage again?? cannot renew my subscription, do something",
    "503 every time I try to add my card. every. time.",
    "servers offline and my payment just hangs on the spinner lol",
])
def test_an_outage_outranks_the_payment_or_login_it_broke(scorer, text):
    """With the default topics a post naming an outage and what it stopped (a payment, a login) is about the
    outage: ties go to the topic listed first, and the outage leads."""
    assert scorer.score(text).topic == "outage"


@pytest.mark.parametrize("text", [
    "Acme open-sources its fraud detection library",
    "acme bank expands its fraud team to 200 people",
    "Acme publishes its scam awareness report for 2026",
    "acme upgrades its theft protection for cards",
    "AcmeBank and its fraud prevention partners win an award",
])
def test_its_before_a_compound_noun_is_a_possessive_not_an_accusation(scorer, text):
    result = scorer.score(text)
    assert not result.is_complaint and "accusation" not in {r["rule"] for r in result.reasons}


@pytest.mark.parametrize("text", [
    "its fraud plain and simple, acme charged me twice",
    "this is theft acme",
    "it's a scam, acme kept my deposit",
    "its robbery what acme charges for roaming",
    "thats fraud @acme, you billed a closed account",
])
def test_it_is_fraud_still_accuses(scorer, text):
    assert scorer.score(text).is_complaint


@pytest.mark.parametrize("text", [
    'acme replied "we\'re sorry, please DM us" - still waiting 3 days later',
    'Their reply: "We are looking into it" ...that was two weeks ago and nothing',
    '@acme said "we\'ll get back to you within 24h" on monday. still nothing',
    'acme: "our team is on it". me, 5 days later, still no refund',
    'support told me “we are investigating” 10 days ago and i still have no refund',
])
def test_a_customer_quoting_the_brands_reply_is_not_the_brand_speaking(scorer, text):
    assert scorer.score(text).is_complaint


@pytest.mark.parametrize("text", [
    "We're sorry for the delay, please DM us your order number",
    'We\'re sorry, "delivery" is delayed today. DM us and we\'ll check',
    'we are looking into it, "sorry" does not cover it we know',
])
def test_the_brands_own_unquoted_reply_is_still_disarmed(scorer, text):
    assert not scorer.score(text).is_complaint


def test_quoted_tokens_are_those_between_a_pair_of_quotes():
    from monitor.scoring.phrases import quoted_tokens, tokenize

    text = 'acme said "we\'re on it" then “nothing”, and "unclosed'
    tokens = tokenize(text)
    assert [tokens[i] for i in sorted(quoted_tokens(text))] == ["we're", "on", "it", "nothing"]


@pytest.mark.parametrize("text", [
    "@acmebank put a block on my card after one online purchase and no one can say when it comes off",
    "pixelcart restricted my seller account, three agents later nobody can explain why",
    "Acme closed my account out of nowhere, the branch has no idea when I'll get my balance",
    "my acme bank account is on hold since the 14th and every agent gives a different answer",
    "acme froze my business account, can't tell me when it will be released, payroll is friday",
    "acme put a hold on my account and can't say when it'll be lifted. rent is due tomorrow",
])
def test_an_account_frozen_with_no_answer_is_a_complaint(scorer, text):
    """No angry word: the brand acted on the customer's account and nobody can say when or why."""
    result = scorer.score(text)
    assert result.is_complaint and "left_in_the_dark" in {r["rule"] for r in result.reasons}


@pytest.mark.parametrize("text", [
    "how do I freeze my acme card if I lose it?",
    "acme bank unfroze my card within an hour, brilliant",
    "Locked my own acme card in the app after losing my wallet, found it, unlocked it, great feature",
    "acme's new app lets you put a hold on your card yourself",
    "no date yet for the northwind summer schedule, will check back in march",
    "nobody can tell the difference between pixelcart own brand and the big names, love it",
])
def test_freezing_words_without_a_grievance_are_not(scorer, text):
    assert not scorer.score(text).is_complaint
