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
        "agrees": True,
        "tries": [{"how": "greedy", "error": None, "contradiction": None}],
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
    assert result.record()["tries"] == [
        {"how": "greedy", "error": checked.NOT_CODE, "contradiction": None},
        {"how": "sample", "error": None, "contradiction": None},
    ]


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


ASKED = "Plane, from (0, 0) to (3, 4)."
WRONG_GOAL = GOOD.replace("[3.0, 4.0]", "[3.0, 9.0]")  # checks, but 5 is not in the request


def test_an_answer_that_contradicts_the_request_is_resampled():
    script = Script(WRONG_GOAL, GOOD)
    result = checked.answer(script, "ask", Policy(mode="repair"), repair_prompt=repair_prompt, request=ASKED)
    assert result.answer == GOOD and result.checked is True and result.agrees is True
    assert script.calls[1] == ("ask", 0.7, 1)  # sampled, not repaired: the repair prompt quotes checker errors only
    record = result.record()
    assert record["tries"][0]["contradiction"] == "the program has 9.0, a number the request does not state"
    assert record["tries"][1]["contradiction"] is None


def test_one_run_gives_greedy_checker_loop_and_meaning_checked_answers():
    script = Script(BAD, WRONG_GOAL, GOOD)
    result = checked.answer(script, "ask", Policy(mode="sample", max_attempts=4), request=ASKED)
    assert result.first_answer == BAD
    assert result.attempts[result.checker_kept].answer == WRONG_GOAL  # where a loop without a judge stops
    assert result.answer == GOOD


def test_when_every_answer_contradicts_the_first_that_checks_is_kept():
    script = Script(BAD, WRONG_GOAL, WRONG_GOAL + "\n")
    result = checked.answer(script, "ask", Policy(mode="sample", max_attempts=3), request=ASKED)
    assert result.answer == WRONG_GOAL and result.checked is True and result.agrees is False
    assert result.record()["agrees"] is False


def test_without_a_request_there_is_no_judge():
    assert checked.judge_for(None) is None


def test_meaning_checks_can_be_turned_off():
    script = Script(WRONG_GOAL)
    result = checked.answer(script, "ask", Policy(mode="sample", meaning=False), request=ASKED)
    assert result.answer == WRONG_GOAL and len(script.calls) == 1 and result.agrees is True
