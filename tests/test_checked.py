"""The checker loop's policy, driven by a scripted generate function (no model)."""

import pytest

from helpers import BAD, GOOD
from nava_instruct.lm import checked
from nava_instruct.lm.checked import Policy

EXPLANATION = "This program plans a path on the plane from the origin to (3, 4)."


class Script:
    """Returns the scripted answers in turn and records each call."""

    def __init__(self, *answers: str):
        self.answers, self.calls = list(answers), []

    def __call__(self, prompt, temperature: float, seed: int) -> str:
        self.calls.append((prompt, temperature, seed))
        return self.answers.pop(0)


def repair_prompt(example: dict) -> tuple:
    return ("repair", example["instruction"], example["input"])


def test_a_good_first_answer_is_kept_without_retries():
    script = Script(GOOD)
    result = checked.answer(script, "ask", Policy(mode="both"), repair_prompt=repair_prompt)
    assert result.answer == GOOD and result.checked is True and len(result.attempts) == 1
    assert result.record() == {
        "attempts": 1,
        "checked": True,
        "first_checked": True,
        "tries": [{"how": "greedy", "error": None}],
    }
    assert script.calls == [("ask", 0.0, 0)]


def test_explanations_pass_through_untouched():
    script = Script(EXPLANATION)
    result = checked.answer(script, "ask", Policy(mode="sample"))
    assert result.answer == EXPLANATION and result.checked is None and len(script.calls) == 1
    assert result.record()["first_checked"] is None


@pytest.mark.parametrize("answer, code", [("", False), ("  \n", False), (BAD, True), (GOOD[:30], True)])
def test_an_empty_answer_is_not_code(answer, code):
    assert checked.is_code(answer) is code


def test_sampling_stops_at_the_first_answer_that_checks():
    script = Script(BAD, BAD, f"```nava\n{GOOD}```")
    result = checked.answer(script, "ask", Policy(mode="sample", max_attempts=4, temperature=0.5, seed=10))
    assert result.checked is True and result.answer == f"```nava\n{GOOD}```" and result.first_answer == BAD
    assert script.calls == [("ask", 0.0, 10), ("ask", 0.5, 11), ("ask", 0.5, 12)]
    record = result.record()
    assert record["attempts"] == 3 and record["first_checked"] is False
    assert [t["how"] for t in record["tries"]] == ["greedy", "sample", "sample"]
    assert "euclidan_plane" in record["tries"][0]["error"] and record["tries"][2]["error"] is None


def test_when_nothing_checks_the_first_answer_is_kept_and_marked():
    script = Script(BAD, BAD + "\n", EXPLANATION, BAD + "\n\n", GOOD)
    result = checked.answer(script, "ask", Policy(mode="sample", max_attempts=4))
    assert len(script.calls) == 4 and result.checked is False and result.answer == BAD
    assert result.record()["tries"][2]["error"] == checked.NOT_CODE


def test_a_repair_quotes_the_request_the_program_and_the_errors_without_a_hint():
    script = Script(f"Here you go:\n```nava\n{BAD}```", GOOD)
    result = checked.answer(script, "ask", Policy(mode="repair"), request="Go to (3,4).", repair_prompt=repair_prompt)
    assert result.checked is True and result.answer == GOOD
    (kind, instruction, program), temperature, _ = script.calls[1]
    assert kind == "repair" and program == BAD and temperature == 0.0
    assert instruction.startswith("It should do this: Go to (3,4).\nThis NAVA program doesn't check.")
    assert "line 1, column 9: unknown builtin 'euclidan_plane'" in instruction
    assert instruction.endswith("Fix the program.") and "`euclidean_plane`" not in instruction


def test_later_repairs_are_sampled_and_work_on_the_latest_program():
    worse = BAD.replace("goal:", "gaol:")
    script = Script(BAD, worse, EXPLANATION, GOOD)
    result = checked.answer(script, "ask", Policy(mode="repair", temperature=0.9), repair_prompt=repair_prompt)
    assert [call[1] for call in script.calls] == [0.0, 0.0, 0.9, 0.9]
    assert script.calls[2][0][2] == worse and script.calls[3][0][2] == worse  # prose is not a program to repair
    assert result.checked is True and [t["how"] for t in result.record()["tries"]][1:] == ["repair"] * 3


def test_when_code_was_asked_for_prose_is_retried_by_sampling():
    script = Script(EXPLANATION, GOOD)
    result = checked.answer(script, "ask", Policy(mode="repair"), repair_prompt=repair_prompt, code_asked=True)
    assert result.checked is True and script.calls[1] == ("ask", 0.7, 1)
    assert result.record()["tries"] == [{"how": "greedy", "error": checked.NOT_CODE}, {"how": "sample", "error": None}]


def test_both_alternates_repair_and_sample():
    script = Script(BAD, BAD, BAD, GOOD)
    result = checked.answer(script, "ask", Policy(mode="both"), repair_prompt=repair_prompt)
    assert [t["how"] for t in result.record()["tries"]] == ["greedy", "repair", "sample", "repair"]
    assert script.calls[2][0] == "ask"


def test_off_checks_the_answer_but_never_retries():
    result = checked.answer(Script(BAD), "ask", Policy(mode="off"))
    assert result.record()["attempts"] == 1 and result.checked is False


def test_the_deadline_stops_the_loop():
    times = iter([0.0, 1.0, 5.0])
    script = Script(BAD, BAD, GOOD)
    result = checked.answer(script, "ask", Policy(mode="sample", seconds=5.0), clock=lambda: next(times))
    assert len(script.calls) == 2 and result.checked is False


def test_repair_modes_need_a_repair_prompt():
    with pytest.raises(ValueError, match="needs a repair_prompt"):
        checked.answer(Script(BAD), "ask", Policy(mode="both"))
