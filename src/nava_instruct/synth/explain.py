"""Explanations of a NAVA program, composed from its spec for one audience level.

An explanation names the manifold (with its radius), the start and the goal, every obstacle with
its parameters, the cost kind with its parameters, and whether the path is computed and drawn.
The wording comes from level-specific banks of sentence variants in explain_banks.py (GCSE: everyday
words and analogies; A-level: vectors and geometry; undergrad: metric, geodesic, configuration space;
PhD: Riemannian and Lie-group structure, optimal control, cost functionals), in prose, bullets or
numbered steps, with some parts reordered and some remarks optional, so no two read alike. The optional
remarks and the closing summary are left out of an explanation that would not fit ``synth.budget``.
"""

from __future__ import annotations

import random

from nava_instruct.nava.domain import MANIFOLDS, Problem
from nava_instruct.synth import budget
from nava_instruct.synth import explain_banks as banks
from nava_instruct.synth.phrasing import Phraser, join


def request(rng: random.Random, level: str) -> tuple[str, str | None]:
    """The instruction of a code_to_explanation example, and the part it asks to focus on (or None)."""
    focus = rng.choice((None, None, None, "obstacles", "cost", "manifold"))
    return rng.choice(banks.EXPLANATION_REQUESTS[level]) + banks.FOCUS_SUFFIXES[focus], focus


def explanation(rng: random.Random, problem: Problem, level: str, focus: str | None = None) -> str:
    """An explanation of a program with spec ``problem`` for an audience at ``level``."""
    return _Explainer(rng, problem, level, focus).compose()


class _Extra(str):
    """A sentence the explanation can do without: left out when the whole would not fit ``budget``."""


def _counted_obstacles(count_text: str, count: int) -> str:
    """The count with its noun: "one obstacle", "3 obstacles"."""
    return f"{count_text} obstacle{'s' * (count > 1)}"


class _Explainer:
    """One explanation: each method draws the sentences of one part, compose() draws their order and layout."""

    def __init__(self, rng: random.Random, problem: Problem, level: str, focus: str | None):
        self.rng, self.problem, self.level, self.focus = rng, problem, level, focus
        self.phraser = Phraser(rng)
        if level == "gcse":
            self.phraser.angle_style = rng.choice(("degrees", "deg"))
        elif level == "phd":
            self.phraser.angle_style = rng.choice(("pi", "π"))
        self.kind = problem.manifold
        self.fields = {
            "start": self.phraser.point(self.kind, problem.start),
            "goal": self.phraser.point(self.kind, problem.goal),
        }
        if problem.radius is not None:
            self.fields["radius"] = self.phraser.number(problem.radius)

    def say(self, variants, **fields) -> str:
        """One of ``variants``, filled with the start, goal and radius and any other ``fields``."""
        return self.rng.choice(variants).format(**self.fields, **fields)

    def manifold(self) -> list[str]:
        return [self.say(banks.MANIFOLD_SENTENCES[self.level][self.kind])]

    def endpoints(self) -> list[str]:
        return [self.say(banks.ENDPOINT_SENTENCES[self.level])]

    def obstacles(self) -> list[str]:
        described = [self.phraser.obstacle(obstacle) for obstacle in self.problem.obstacles]
        if not described:
            return [self.say(banks.NO_OBSTACLE_SENTENCES[self.level])]
        count = len(described)
        count_words = banks.COUNT_WORDS
        count_text = self.rng.choice((count_words[count], str(count))) if count < len(count_words) else str(count)
        obstacle_count = _counted_obstacles(count_text, count)
        sentences = [
            self.say(
                banks.OBSTACLE_LIST_SENTENCES[self.level],
                obstacle_list=join(described),
                obstacle_count=obstacle_count,
                Obstacle_count=obstacle_count[0].upper() + obstacle_count[1:],
                is_are="is" if count == 1 else "are",
            )
        ]
        if self.rng.random() < 0.6:
            sentences.append(_Extra(self.say(banks.OBSTACLE_REMARKS[self.level])))
        if MANIFOLDS[self.kind].is_pose and self.rng.random() < 0.7:
            sentences.append(_Extra(banks.POSITION_ONLY_REMARK[self.level]))
        return sentences

    def cost(self) -> list[str]:
        cost = self.problem.cost
        if cost["kind"] == "geodesic":
            return [self.say(banks.GEODESIC_COST_SENTENCES[self.level])]
        if cost["kind"] == "weighted":
            meanings = banks.WEIGHT_MEANINGS[self.level]
            terms = [
                (
                    f"{meanings[name]} (`{name}: {self.phraser.number(cost[name])}`)"
                    if self.rng.random() < 0.5
                    else f"{meanings[name]} with weight {self.phraser.number(cost[name])}"
                )
                for name in meanings
                if cost[name]
            ]
            return [self.say(banks.WEIGHTED_COST_SENTENCES[self.level], terms=join(terms))]
        if cost["kind"] == "time_optimal":
            max_acceleration = cost["max_acceleration"]
            acceleration_limit = (
                ""
                if max_acceleration is None
                else banks.ACCELERATION_LIMIT_CLAUSE[self.level].format(
                    max_acceleration=self.phraser.number(max_acceleration)
                )
            )
            sentences = [
                self.say(
                    banks.TIME_OPTIMAL_COST_SENTENCES[self.level],
                    max_velocity=self.phraser.number(cost["max_velocity"]),
                    acceleration_limit=acceleration_limit,
                )
            ]
            if max_acceleration is None and self.rng.random() < 0.5:
                sentences.append(_Extra(banks.NO_ACCELERATION_LIMIT_SENTENCE[self.level]))
            return sentences
        return [
            self.say(
                banks.ENERGY_OPTIMAL_COST_SENTENCES[self.level],
                energy_weight=self.phraser.number(cost["energy_weight"]),
            )
        ]

    def outcome(self) -> list[str]:
        sentences = [self.say(banks.FIELD_SENTENCES[self.level])]
        if not self.problem.computed:
            return sentences + [self.say(banks.PATH_NOT_COMPUTED_SENTENCES)]
        sentences.append(self.say(banks.PATH_COMPUTED_SENTENCES[self.level]))
        if self.problem.visualized:
            sentences.append(self.say(banks.PATH_DRAWN_SENTENCES))
        else:
            sentences.append(self.say(banks.PATH_NOT_DRAWN_SENTENCES))
        return sentences

    def summary(self) -> str:
        count = len(self.problem.obstacles)
        avoidance = (
            self.say(banks.AVOIDANCE_PHRASES, obstacle_count=_counted_obstacles(str(count), count)) if count else ""
        )
        return self.say(banks.SUMMARY_SENTENCES[self.level], avoidance=avoidance)

    def compose(self) -> str:
        parts = {
            "manifold": self.manifold(),
            "endpoints": self.endpoints(),
            "obstacles": self.obstacles(),
            "cost": self.cost(),
        }
        head, middle = ["manifold", "endpoints"], ["obstacles", "cost"]
        self.rng.shuffle(middle)
        if self.rng.random() < 0.3:
            head.reverse()
        order = head + middle
        if self.focus:  # the part the request asks about comes first
            order.remove(self.focus)
            order.insert(0, self.focus)
        sections = [parts[name] for name in order] + [self.outcome()]
        if self.rng.random() < 0.5:
            sections.append([_Extra(self.say(banks.OPTIONAL_REMARKS[self.level]))])
        opener = self.say(banks.OPENING_SENTENCES[self.level])
        closer = _Extra(self.summary()) if self.problem.computed and self.rng.random() < 0.5 else ""
        layout = self.rng.choice(("prose", "paragraphs", "bullets", "numbered"))
        text = _lay_out(layout, opener, sections, closer)
        if budget.fits(text):
            return text
        essentials = [[sentence for sentence in section if not isinstance(sentence, _Extra)] for section in sections]
        return _lay_out(layout, opener, [section for section in essentials if section], "")


def _lay_out(layout: str, opener: str, sections: list[list[str]], closer: str) -> str:
    """The explanation's text: the opener, its sections in ``layout`` and the closing sentence."""
    if layout == "prose":
        body = " ".join(sentence for section in sections for sentence in section)
    elif layout == "paragraphs":
        body = "\n\n".join(" ".join(section) for section in sections)
    else:
        marks = [f"{i}." for i in range(1, len(sections) + 1)] if layout == "numbered" else ["-"] * len(sections)
        body = "\n".join(f"{mark} {' '.join(section)}" for mark, section in zip(marks, sections))
    return "\n\n".join(part for part in (opener, body, closer) if part)
