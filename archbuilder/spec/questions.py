"""`archbuilder new`: a spec written from the answers to a family's design questions.

Every answer is checked as soon as it is given; a wrong one is asked again with the
reason, so no answer is lost to a typo. Sizes are read as people write them
(`32x32x1`, `32 32 1`, `[32, 32, 1]`, `32,32,1`); choices are case-insensitive with a
did-you-mean; a count asked first fixes how many per-layer values are taken; the data
is asked first, and the input size is checked against it when that is quick to read
(`archbuilder.data.peek`).
"""

import math
import os
import re

from archbuilder.data.datasets import dataset_key
from archbuilder.data.parse import parse_data
from archbuilder.data.peek import csv_columns
from archbuilder.data.peek import glance
from archbuilder.data.preprocessing import resolve_shape
from archbuilder.errors import DataError
from archbuilder.families import get_family
from archbuilder.spec.schema import MAX_SIDE
from archbuilder.spec.schema import NAME_PATTERN
from archbuilder.text import closest
from archbuilder.text import listed
from archbuilder.text import shape as fmt_shape

__all__ = ["Retry", "Questions", "ask_spec", "parse_sizes"]

_NONE = ("none", "no", "-")


class Retry(ValueError):
    """An answer that cannot be taken; the message says why (the question is asked again)."""


def parse_sizes(text):
    """Sizes as a person writes them: `32x32x1`, `32 32 1`, `[32, 32, 1]`, `32,32,1`, `(32, 32, 1)`.

    Raises:
        Retry: not a list of whole numbers of at least 1.
    """
    tokens = [t for t in re.split(r"[\sx×X*,;]+", text.strip().strip("[]()")) if t]
    if not tokens:
        raise Retry("give at least one size, e.g. 28x28x1")
    sizes = []
    for token in tokens:
        if not token.isdigit():
            raise Retry(f"'{token}' is not a whole number; write sizes like 28x28x1 or 28 28 1")
        sizes.append(int(token))
    if min(sizes) < 1 or max(sizes) > MAX_SIDE:
        raise Retry(f"sizes must be from 1 to {MAX_SIDE:,}; got {fmt_shape(sizes)}")
    return sizes


def _number(text, minimum):
    if not re.fullmatch(r"[+-]?\d+", text.strip()):
        raise Retry(f"'{text}' is not a whole number")
    value = int(text)
    if value < minimum:
        raise Retry(f"{value} is less than the minimum of {minimum}")
    return value


def _key(text):
    return re.sub(r"[\s-]+", "_", text.strip().lower())


class Questions:
    """The questions a family's `questions(q)` asks (`archbuilder.families.Family.questions`).

    Each method asks one question and returns the checked answer. Without a prompt
    (`archbuilder new --defaults`) each returns its default without asking.

    Args:
        prompt: `click.prompt`-like `prompt(text, default=str) -> str`, or None.
        say: prints a line to the person answering (the reason an answer was refused).
        base_dir: the folder the spec will be written to: data paths are written relative to it.
    """

    def __init__(self, prompt=None, say=print, base_dir=None):
        self._prompt = prompt
        self._say = say
        self._base_dir = base_dir
        self.glance = None  # what a quick look at the data found (`archbuilder.data.peek.Glance`), once asked

    @property
    def asking(self):
        return self._prompt is not None

    def _ask(self, question, shown, parse):
        while True:
            answer = str(self._prompt(question, default=shown)).strip()
            try:
                return parse(answer)
            except Retry as e:
                self._say(f"  {e}; try again")

    def text(self, question, default, pattern=None, expected=None):
        """A line of text; with `pattern`, it must match (`expected` says what it must be)."""
        if not self.asking:
            return default

        def parse(answer):
            if pattern and not re.fullmatch(pattern, answer):
                raise Retry(f"'{answer}' is not {expected}")
            return answer

        return self._ask(question, default, parse)

    def name(self, default):
        return self.text("Name of the model", default, NAME_PATTERN, "1 to 64 letters, digits, '_' or '-'")

    def number(self, question, default, minimum=1, check=None):
        """A whole number of at least `minimum`; `check(value)` may return a reason to refuse it."""
        if not self.asking:
            return default

        def parse(answer):
            value = _number(answer, minimum)
            reason = check(value) if check else None
            if reason:
                raise Retry(reason)
            return value

        return self._ask(question, str(default), parse)

    def each(self, noun, what, default, count, minimum=1):
        """`count` whole numbers, the `noun` of each `what` (one number alone stands for all of them)."""
        if not self.asking or not count:
            return list(default)
        question = f"{noun} of each of the {count} {what}s" if count > 1 else f"{noun} of the {what}"

        def parse(answer):
            values = [_number(t, minimum) for t in re.split(r"[\s,;x]+", answer.strip().strip("[]()")) if t]
            if len(values) == 1:
                return values * count
            if len(values) != count:
                raise Retry(f"{len(values)} values for {count} {what}{'s' if count != 1 else ''}; give {count} "
                            f"(one per {what}) or one for all")
            return values

        return self._ask(question, " ".join(map(str, default)), parse)

    def choice(self, question, options, default, aliases=None):
        """One of `options`, in any case (`aliases` maps other accepted words to an option)."""
        if not self.asking:
            return default
        words = {_key(o): o for o in options}
        words.update({_key(k): v for k, v in (aliases or {}).items()})

        def parse(answer):
            if _key(answer) in words:
                return words[_key(answer)]
            match = closest(_key(answer), list(words))
            hint = f" (did you mean '{words[match]}'?)" if match else ""
            raise Retry(f"'{answer}' is not one of {listed(options, 400)}{hint}")

        return self._ask(f"{question} ({', '.join(options)})" if len(options) <= 6 else question, default, parse)

    def yes(self, question, default=True):
        """Yes or no."""
        if not self.asking:
            return default
        word = self.choice(question, ["y", "n"], "y" if default else "n", aliases={"yes": "y", "no": "n"})
        return word == "y"

    def size(self, question, default, ranks=(1, 2, 3, 4), hint=""):
        """An input shape; checked against the data when a quick look at it gave its sample shape."""
        if not self.asking:
            return list(default)
        seen = self.glance
        if seen is not None and seen.shape is not None:
            default = _fitted(seen, default, ranks)

        def parse(answer):
            sizes = parse_sizes(answer)
            if len(sizes) not in ranks:
                axes = "1 axis" if len(sizes) == 1 else f"{len(sizes)} axes"
                raise Retry(f"{fmt_shape(sizes)} has {axes}; {hint}")
            reason = _misfit(seen, sizes, default) if seen is not None and seen.shape is not None else None
            if reason:
                raise Retry(reason)
            return sizes

        return self._ask(question, fmt_shape(default), parse)

    def units(self, question, default):
        """The output's units: the data's number of classes when it is known."""
        classes = self.glance.classes if self.glance is not None else None
        if classes:
            default = classes

        def check(units):
            if classes and units != classes and not (classes == 2 and units == 1):
                return f"{self.glance.source} has {classes} classes: the output needs {classes} units"
            return None

        return self.number(question, default, check=check)

    def data(self, default, labels=True):
        """The spec's `data`: a dataset name, a path, JSON, or none (returns None).

        Args:
            default: the dataset offered by default.
            labels: whether the family needs labels (a CSV's label column is asked).
        """
        if not self.asking:
            return {"dataset": default} if default else None
        question = ("Data: a dataset (mnist1d, fashion_mnist), a .npz, .npy or .csv file, an image folder, "
                    "or none")
        spec = self._ask(question, default or "none", self._data_answer)
        if spec is None:
            return None
        if labels and spec.get("path", "").lower().endswith((".csv", ".tsv")) and "target" not in spec:
            columns = csv_columns(spec["path"])
            spec["target"] = self.choice("Label column", columns, glance(spec).label_guess)
        self.glance = glance(spec)
        return self._written(spec)

    def _data_answer(self, answer):
        if _key(answer) in _NONE:
            return None
        try:
            spec, _ = parse_data(answer)
            if "dataset" in spec:
                spec["dataset"] = dataset_key(spec["dataset"])  # "MNIST1D" or "Fashion-MNIST" as the table has it
            glance(spec)
        except DataError as e:
            raise Retry(str(e)) from None
        return spec

    def _written(self, spec):
        """`data` as the spec file says it: paths relative to the spec's folder."""
        out = dict(spec)
        for key in ("path", "x", "y", "x_test", "y_test", "x_val", "y_val"):
            if key in out and "dataset" not in out and os.path.exists(out[key]):
                out[key] = os.path.relpath(os.path.abspath(out[key]), os.path.abspath(self._base_dir or "."))
        return out


def _fitted(seen, default, ranks):
    """The data's own sample shape, as the family takes it: 40 -> 40x1 for a cnn, 8x8x1 -> 8x8 for an rnn."""
    shape = list(seen.shape)
    while len(shape) > max(ranks) and shape[-1] == 1:
        shape.pop()
    if len(shape) < len(default) and len(shape) + 1 in ranks:
        shape.append(1)  # a channel axis: 28x28 images -> 28x28x1, 40 values -> 40x1
    shape += [1] * (min(ranks) - len(shape))
    if len(shape) > max(ranks):
        shape = [math.prod(shape[:len(shape) - max(ranks) + 1])] + shape[len(shape) - max(ranks) + 1:]
    return shape if len(shape) in ranks and resolve_shape(tuple(shape), seen.shape) else list(default)


def _misfit(seen, sizes, example):
    """Why `sizes` cannot take the data's samples, or None."""
    if seen.images:
        channels = sizes[-1] if len(sizes) == 3 else 1
        if len(sizes) in (2, 3) and channels in (1, 3, 4):
            return None
        return (f"{seen.source} holds images (resized to the input size): write height x width x channels "
                f"with 1, 3 or 4 channels, e.g. {fmt_shape(example)}")
    if resolve_shape(tuple(sizes), tuple(seen.shape)) is not None:
        return None
    values = f"{math.prod(seen.shape):,} values"
    given = f"{fmt_shape(seen.shape)} ({values})" if len(seen.shape) > 1 else values
    return (f"{seen.source} gives samples of {given}; {fmt_shape(sizes)} holds {math.prod(sizes):,}: "
            f"e.g. {fmt_shape(example)}")


def ask_spec(family, ask=None, name=None, say=print, base_dir=None):
    """Builds a spec for `family` from the answers to its design questions.

    Args:
        family: a registered family's name (`archbuilder.families.family_names()`).
        ask: `click.prompt`-like callable, or None to take every default.
        name: the spec's name (default: asked, `my_<family>`).
        say: prints the reason an answer is asked again.
        base_dir: the folder the spec is written to (data paths are made relative to it).

    Returns:
        The spec document (not yet validated).
    """
    q = Questions(ask, say, base_dir)
    name = name or q.name(f"my_{family}")
    answers = get_family(family).questions(q)
    data = answers.pop("data", None)
    return {"spec_version": 1, "name": name, "family": family, **answers, **({"data": data} if data else {})}
