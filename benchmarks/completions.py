"""Deterministic, realistic chat completions for benchmarks and equivalence tests.

    from benchmarks.completions import make_rows, trl_batches
    rows = make_rows(20_000)              # one dict per completion, G=8 per prompt
    for kwargs in trl_batches(rows, 64):  # what TRL passes to a reward function
        ...

Every row is what TRL hands a reward function for one completion of a
conversational dataset: `prompt` (a list of messages ending with the user turn,
sometimes with a system message or earlier turns), `completion` (a list with one
assistant message), `completion_ids` (fake token ids, about 1.3 per word) and a
`reference` column. G=8 completions share a prompt; each row gets its own copies
of the prompt's messages and strings, as TRL's dataloader delivers them.

The texts are built from templates over a few topics, 5 to 400 words long (a
fifth under 50, a quarter over 200), and mix in, at realistic rates, what the
guide's reward functions look for: the helpful phrases (in any case, sometimes
split by punctuation or written with a curly apostrophe), the unsafe words (also
inside longer words: "unharmful", "illegally"), words of the user's question, and
Unicode (accents, 'ß', 'İ', emoji, CJK, full-width letters, no-break and
zero-width spaces). Same arguments, same rows, on every machine.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from typing import Any

GROUP = 8

TOPICS: dict[str, dict[str, list[str]]] = {
    "python": {
        "nouns": ["list", "dictionary", "function", "loop", "class", "module", "exception", "variable",
                  "decorator", "generator", "string", "file", "package", "test", "script", "error"],
        "verbs": ["sort", "reverse", "read", "write", "debug", "install", "import", "parse", "format", "merge"],
        "extras": ["pip", "venv", "pytest", "lambda", "`print()`", "`len(x)`", "Python 3.11", "PEP 8"],
    },
    "cooking": {
        "nouns": ["pasta", "sauce", "oven", "recipe", "bread", "dough", "onion", "garlic", "soup", "pan",
                  "salt", "butter", "flour", "rice", "pizza", "crème brûlée"],
        "verbs": ["bake", "boil", "chop", "roast", "season", "knead", "simmer", "fry", "stir", "taste"],
        "extras": ["180 °C", "half a cup", "10 minutes", "a pinch", "al dente", "two eggs", "a jalapeño"],
    },
    "travel": {
        "nouns": ["flight", "hotel", "passport", "visa", "train", "ticket", "museum", "city", "beach",
                  "luggage", "map", "airport", "station", "İstanbul", "Zürich"],
        "verbs": ["book", "visit", "pack", "plan", "explore", "cancel", "reserve", "travel", "fly", "check"],
        "extras": ["120 euros", "2 weeks", "the Eiffel Tower", "a city map", "Москва", "a day pass"],
    },
    "health": {
        "nouns": ["sleep", "exercise", "diet", "water", "stress", "doctor", "vitamin", "muscle", "heart",
                  "habit", "routine", "walk", "headache", "posture", "breakfast", "stretch"],
        "verbs": ["improve", "reduce", "track", "start", "avoid", "maintain", "build", "rest", "drink", "walk"],
        "extras": ["8 hours", "30 minutes", "twice a week", "a physician", "less caffeine", "a nap 😴"],
    },
    "finance": {
        "nouns": ["budget", "savings", "loan", "interest", "account", "tax", "invoice", "pension", "stock",
                  "fund", "expense", "income", "mortgage", "credit", "debt", "receipt"],
        "verbs": ["save", "invest", "pay", "borrow", "track", "plan", "reduce", "compare", "file", "budget"],
        "extras": ["$500", "5%", "each month", "an index fund", "a spreadsheet", "€1000"],
    },
}

QUESTIONS = [
    "How do I {verb} a {noun}?",
    "What is the best way to {verb} my {noun}?",
    "Can you explain how to {verb} the {noun} with {extra}?",
    "Why does my {noun} keep failing when I {verb} it?",
    "Is it safe to {verb} a {noun} every day?",
    "I need help: how should I {verb} the {noun} and the {noun2}?",
    "what's the difference between a {noun} and a {noun2}",
    "Give me tips to {verb} my {noun} faster.",
]

SYSTEM = [
    "You are a helpful assistant.",
    "You are a concise, friendly expert. Answer clearly.",
    "Answer in plain English.",
]

FILLER = [
    "the", "a", "this", "that", "it", "you", "your", "we", "is", "are", "can", "will", "should", "often",
    "usually", "first", "then", "also", "because", "when", "if", "with", "for", "to", "of", "and", "or",
    "in", "on", "about", "more", "most", "some", "many", "simple", "good", "better", "quick", "easy",
    "important", "common", "small", "large", "new", "next", "step", "way", "time", "idea", "part", "example",
]

TEMPLATES = [
    "You can {verb} the {noun} by starting with a {adj} {noun2}.",
    "First, {verb} your {noun} carefully, then check the {noun2}.",
    "A {adj} {noun} usually needs {extra} before you {verb} it.",
    "Most people {verb} the {noun} too often; {extra} is enough.",
    "If the {noun} does not work, try to {verb} it again with {extra}.",
    "It is {adj} to {verb} a {noun} when the {noun2} is ready.",
    "Remember that every {noun} is different, so {verb} with care!",
    "Do you want to {verb} the {noun} or the {noun2}?",
    "- {verb} the {noun}",
    "1. {verb} the {noun} ({extra})",
    "The {noun} and the {noun2} work well together, {filler} {filler} {filler}.",
    "In short: {verb}, {verb2}, and {verb} again.",
]
ADJECTIVES = ["simple", "good", "careful", "quick", "common", "useful", "small", "large", "better", "safe"]

HELPFUL = [
    "I can help", "Here's how", "Let me explain",
    "i can help", "HERE'S HOW", "let me explain", "Here’s how",  # the curly apostrophe does not match
    "I can, help", "Here's\nhow", "Let me Explain",
]
UNSAFE = ["dangerous", "illegal", "harmful", "Dangerous", "ILLEGAL", "unharmful", "illegally", "harmless", "harm"]
UNICODE_BITS = [
    "😊", "👍🏽", "🚀", "✅", "café", "naïve", "Straße", "STRASSE", "İstanbul", "ǅ", "ﬁle", "Ｈｅｌｌｏ",
    "日本語のテキスト", "中文", "ß", "ﬀ", "a\u00a0b", "zero\u200bwidth", "x\u2009y", "ŉ", "Ω", "Ⅻ",
]


def _fresh(text: str) -> str:
    """A new str object with the same value (a dataloader builds new strings per row)."""
    return text.encode("utf-8").decode("utf-8")


def _user_question(rng: random.Random, topic: dict[str, list[str]]) -> str:
    nouns = rng.sample(topic["nouns"], 2)
    return rng.choice(QUESTIONS).format(
        verb=rng.choice(topic["verbs"]), noun=nouns[0], noun2=nouns[1], extra=rng.choice(topic["extras"])
    )


def _prompt(rng: random.Random) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    topic = TOPICS[rng.choice(sorted(TOPICS))]
    messages: list[dict[str, str]] = []
    if rng.random() < 0.5:
        messages.append({"role": "system", "content": rng.choice(SYSTEM)})
    if rng.random() < 0.25:  # an earlier exchange
        messages.append({"role": "user", "content": _user_question(rng, topic)})
        messages.append({"role": "assistant", "content": "Sure. " + _sentence(rng, topic, [])})
    messages.append({"role": "user", "content": _user_question(rng, topic)})
    return messages, topic


def _sentence(rng: random.Random, topic: dict[str, list[str]], user_words: list[str]) -> str:
    nouns = topic["nouns"]
    verbs = topic["verbs"]
    if user_words and rng.random() < 0.3:  # echo a word of the question
        nouns = nouns + user_words
    return rng.choice(TEMPLATES).format(
        verb=rng.choice(verbs), verb2=rng.choice(verbs), noun=rng.choice(nouns), noun2=rng.choice(nouns),
        adj=rng.choice(ADJECTIVES), extra=rng.choice(topic["extras"]), filler=rng.choice(FILLER),
    )


def _target_words(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.2:
        return rng.randint(5, 49)
    if r < 0.75:
        return rng.randint(50, 200)
    return rng.randint(201, 400)


def _completion_text(rng: random.Random, topic: dict[str, list[str]], question: str) -> str:
    user_words = question.rstrip("?.!").split()
    target = _target_words(rng)
    pieces: list[str] = []
    words = 0
    if rng.random() < 0.35:
        opener = rng.choice(HELPFUL)
        pieces.append(opener + rng.choice([". ", "! ", ": ", " with that. ", " you. "]))
        words += len(opener.split()) + 1
    while words < target:
        r = rng.random()
        if r < 0.03:
            piece = rng.choice(HELPFUL) + rng.choice([".", ":", " -", ","])
        elif r < 0.05:
            piece = "That would be " + rng.choice(UNSAFE) + "."
        elif r < 0.062:
            piece = rng.choice(UNICODE_BITS) + " " + rng.choice(FILLER)
        elif r < 0.10:
            piece = " ".join(rng.choice(FILLER) for _ in range(rng.randint(2, 8))) + "."
        else:
            piece = _sentence(rng, topic, user_words)
        pieces.append(piece)
        words += len(piece.split())
    text = " ".join(pieces)
    split = text.split()
    if len(split) > target:  # trim to the target length, keeping the text's own separators
        cut = 0
        for _ in range(target):
            cut = text.index(split[_], cut) + len(split[_])
        text = text[:cut]
    if rng.random() < 0.3:
        text = text.replace(". ", ".\n\n", rng.randint(1, 3))
    return text


def make_rows(n: int = 20_000, seed: int = 0, group: int = GROUP) -> list[dict[str, Any]]:
    """`n` completions, `group` per prompt, as TRL keyword data: prompt, completion, completion_ids, reference."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        messages, topic = _prompt(rng)
        question = messages[-1]["content"]
        reference = _completion_text(rng, topic, question)
        for _ in range(group):
            if len(rows) == n:
                break
            text = _completion_text(rng, topic, question)
            n_ids = max(1, int(len(text.split()) * 1.3))
            rows.append({
                "prompt": [{"role": m["role"], "content": _fresh(m["content"])} for m in messages],
                "completion": [{"role": "assistant", "content": text}],
                "completion_ids": [rng.randrange(50_000) for _ in range(n_ids)],
                "reference": _fresh(reference),
            })
    return rows


def trl_batches(rows: list[dict[str, Any]], size: int = 64) -> Iterator[dict[str, Any]]:
    """The keyword arguments TRL passes to every reward function, one dict per batch of `size` rows."""
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        yield {
            "prompts": [row["prompt"] for row in chunk],
            "completions": [row["completion"] for row in chunk],
            "completion_ids": [row["completion_ids"] for row in chunk],
            "reference": [row["reference"] for row in chunk],
            "trainer_state": None,
            "log_extra": _ignore,
            "log_metric": _ignore,
        }


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


# ------------------------------------------------------------------ reasoning
# R1-style completions for the peers' format rewards (benchmarks/peer_speed.py): well-formed
# `<think>\n...\n</think>\n<answer>\n...\n</answer>` outputs, the ways a model gets them wrong
# while it learns the format, and plain chat replies without any tag.
def _well_formed(thinking: str, answer: str) -> str:
    return f"<think>\n{thinking}\n</think>\n<answer>\n{answer}\n</answer>"


BROKEN_FORMATS = (
    lambda t, a: f"<think>{t}</think><answer>{a}</answer>",  # no line breaks around the tags
    lambda t, a: f"<think>\n{t}\n</think>\n{a}",  # no answer block
    lambda t, a: f"<think>\n{t}\n<answer>\n{a}\n</answer>",  # the thinking never closed
    lambda t, a: f"<answer>\n{a}\n</answer>\n<think>\n{t}\n</think>",  # answer first
    lambda t, a: f"<think>\n{t}\n</think>\n<think>\n{t}\n</think>\n<answer>\n{a}\n</answer>",  # thinking twice
    lambda t, a: f"Sure! <think>\n{t}\n</think>\n<answer>\n{a}\n</answer>",  # text before the thinking
    lambda t, a: _well_formed(t, a) + "\nHope this helps.",  # text after the answer, on its own line
    lambda t, a: _well_formed(t, a) + " Done.",  # text after the answer, on its line
    lambda t, a: f"<THINK>\n{t}\n</THINK>\n<answer>\n{a}\n</answer>",  # upper-case tags
    lambda t, a: f"<think>\n{t}\n</think>\n<answer>\n{a}",  # the answer never closed
    lambda t, a: f"<think>\n{t} <think> {t}\n</think>\n<answer>\n{a}\n</answer>",  # a tag inside the thinking
    lambda t, a: f"<think>\n{t}\n</think>\n<answer>\n{a}\n</answer>\n</answer>",  # closed twice
    lambda t, a: f"<think>\n{t}",  # cut off by the length limit
)


def _looped(rng: random.Random, text: str) -> str:
    """A degenerate generation: one stretch of the text repeated until the length limit."""
    words = text.split()
    start = rng.randrange(max(1, len(words) - 8))
    loop = " ".join(words[start : start + rng.randint(2, 8)])
    return " ".join([text[: rng.randint(0, len(text))], *[loop] * rng.randint(3, 40)])


def token_ids(text: str) -> list[int]:
    """Deterministic token ids: one per whitespace piece, plus one per 4 characters of a longer piece."""
    ids = []
    for piece in text.split():
        code = zlib.crc32(piece.encode("utf-8", "surrogatepass"))
        ids.extend((code + k) % 50_000 for k in range(1 + len(piece) // 4))
    return ids


def reasoning_rows(n: int = 20_000, seed: int = 0, group: int = GROUP) -> list[dict[str, Any]]:
    """`n` completions, `group` per prompt: about 45% well-formed R1 outputs, 35% broken ones (every
    way of `BROKEN_FORMATS`), 10% degenerate loops and 10% plain chat; `completion_ids` from `token_ids`."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        messages, topic = _prompt(rng)
        question = messages[-1]["content"]
        for _ in range(group):
            if len(rows) == n:
                break
            thinking = _completion_text(rng, topic, question)
            answer = rng.choice(["42", "\\boxed{3/4}", "Paris", _sentence(rng, topic, [])])
            r = rng.random()
            if r < 0.45:
                text = _well_formed(thinking, answer)
            elif r < 0.80:
                text = rng.choice(BROKEN_FORMATS)(thinking, answer)
            elif r < 0.90:
                text = _looped(rng, _well_formed(thinking, answer))
            else:
                text = thinking
            rows.append({
                "prompt": [{"role": m["role"], "content": _fresh(m["content"])} for m in messages],
                "completion": [{"role": "assistant", "content": text}],
                "completion_ids": token_ids(text),
                "reference": _fresh(answer),
            })
    return rows


if __name__ == "__main__":
    import statistics

    rows = make_rows(2_000)
    lengths = [len(r["completion"][0]["content"].split()) for r in rows]
    print(f"{len(rows)} rows; words min {min(lengths)} median {statistics.median(lengths)} max {max(lengths)}")
    for row in rows[:3]:
        print(row["prompt"][-1]["content"], "->", row["completion"][0]["content"][:300], "\n")
