"""Stage split: three-field outputs, stratified, no leakage, hand-written extras validated."""

import json
from pathlib import Path

import pytest

from helpers import section_text, stage_params
from nava_instruct import nava
from nava_instruct.errors import InputError
from nava_instruct.fileio import write_jsonl
from nava_instruct.records import example_id
from nava_instruct.stages import split


def program(goal_x: float, goal_y: float = 1.0) -> str:
    return (
        "let M = euclidean_plane()\n"
        f"let field = navigation_field(manifold: M, start: [0.0, 0.0], goal: [{goal_x}, {goal_y}])\n"
        "let path = compute_optimal_path(field)\n"
        "visualize(path, field)\n"
    )


def record(family, level, instruction, input, output, code):
    return {
        "id": example_id(instruction, input, output),
        "family": family,
        "manifold": "R2",
        "level": level,
        "spec": nava.extract_spec(code)["problems"][0],
        "instruction": instruction,
        "input": input,
        "output": output,
    }


def make_pool(n: int = 200) -> list[dict]:
    rows = []
    for i in range(n):
        code = program(float(i), 2.0)
        level = ("gcse", "phd")[i % 2]
        rows.append(record("prompt_to_code", level, f"Plan from the origin to ({i}, 2) on R^2.", "", code, code))
        if i % 3 == 0:  # an explanation of the same program: shares the task spec
            rows.append(
                record("code_to_explanation", level, f"Explain this, case {i}.", code, f"It goes to ({i}, 2).", code)
            )
    return rows


@pytest.fixture
def layout(tmp_path):
    def params(**overrides):
        defaults = dict(
            generated_dir=str(tmp_path),
            extra_dir=str(tmp_path / "extra"),
            train_out=str(tmp_path / "train.jsonl"),
            eval_out=str(tmp_path / "eval.jsonl"),
            meta_dir=str(tmp_path / "meta"),
            report=str(tmp_path / "report.json"),
        )
        return stage_params(split, **{**defaults, **overrides})

    (tmp_path / "extra").mkdir()
    write_jsonl(tmp_path / "examples.jsonl", make_pool())
    return params


def read(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_three_fields_fraction_and_no_leakage(layout):
    params = layout()
    outputs = split.run(params)
    train, evaluation = read(params.train_out), read(params.eval_out)
    assert all(list(row) == ["instruction", "input", "output"] for row in train + evaluation)
    assert len(train) + len(evaluation) == 267
    assert 0.15 < len(evaluation) / 267 < 0.25
    assert outputs["report"]["overlaps"] == {"spec": 0, "instruction": 0, "input": 0, "total": 0}
    assert json.loads(Path(params.report).read_text())["overlaps"]["total"] == 0
    # explanation and code of one program share a spec, so they must sit on the same side
    eval_inputs = {row["input"] for row in evaluation if row["input"]}
    eval_outputs = {row["output"] for row in evaluation}
    assert eval_inputs and eval_inputs <= eval_outputs
    meta = read(Path(params.meta_dir) / "eval_meta.jsonl")
    assert len(meta) == len(evaluation) and {"id", "family", "manifold", "level", "spec"} <= set(meta[0])


def test_strata_get_their_share(layout):
    params = layout()
    report = split.run(params)["report"]
    for name, counts in report["strata"].items():
        share = counts["eval"] / (counts["eval"] + counts["train"])
        assert abs(share - 0.2) < 0.08, (name, counts)


def test_same_seed_same_bytes_other_seed_other_split(layout, tmp_path):
    split.run(layout())
    first = Path(layout().eval_out).read_bytes()
    split.run(layout())
    assert Path(layout().eval_out).read_bytes() == first
    split.run(layout(seed=99))
    assert Path(layout().eval_out).read_bytes() != first


def test_shared_instruction_or_input_never_crosses(layout, tmp_path):
    rows = make_pool(60)
    code = program(100.0)
    # same instruction with different programs, and the same code input under different instructions
    rows += [
        record("prompt_to_code", "gcse", "Same words.", "", program(200.0 + k), program(200.0 + k)) for k in range(5)
    ]
    rows += [record("code_to_explanation", "phd", f"Explain {k}.", code, f"Answer {k}.", code) for k in range(5)]
    write_jsonl(tmp_path / "examples.jsonl", rows)
    params = layout()
    split.run(params)
    for side in (read(params.train_out), read(params.eval_out)):
        same_words = sum(row["instruction"] == "Same words." for row in side)
        same_code = sum(row["input"] == code for row in side)
        assert same_words in (0, 5) and same_code in (0, 5)


def test_extra_examples_join_with_inferred_family(layout, tmp_path):
    extra = [
        {"instruction": "Write NAVA code for an A-level student.", "input": "", "output": program(7.5)},
        {"instruction": "Explain this for a PhD student.", "input": program(8.5), "output": "It plans a path."},
        {
            "instruction": "Fix it.",
            "input": program(9.5).replace("euclidean_plane", "euclidian_plane"),
            "output": program(9.5),
        },
    ]
    write_jsonl(tmp_path / "extra" / "mine.jsonl", extra)
    params = layout()
    report = split.run(params)["report"]
    assert report["examples"] == 267 + 3
    meta = read(Path(params.meta_dir) / "train_meta.jsonl") + read(Path(params.meta_dir) / "eval_meta.jsonl")
    families = {(m["family"], m["level"]) for m in meta if m["id"] in {example_id(*e.values()) for e in extra}}
    assert families == {("prompt_to_code", "a_level"), ("code_to_explanation", "phd"), ("fix", "unspecified")}


@pytest.mark.parametrize(
    "lines, expected",
    [
        (
            ['{"instruction": "x", "input": "", "output": "let M = euclidean_plane()"}'],
            ":1: output: invalid NAVA",
        ),
        (['{"instruction": "x", "input": "", "output": "hello"}'], ":1: output: no input"),
        (['{"instruction": "x", "input": ""}'], ":1: output: missing"),
        (["", '{"instruction": "x", "input": "", '], ":2: malformed JSON"),
        ([], ": empty file"),
    ],
)
def test_bad_extra_stops_and_writes_nothing(layout, tmp_path, lines, expected):
    bad = tmp_path / "extra" / "bad.jsonl"
    bad.write_text("\n".join(lines))
    params = layout()
    with pytest.raises(InputError) as caught:
        split.run(params)
    assert str(caught.value).startswith(str(bad)) and expected in str(caught.value)
    assert not Path(params.train_out).exists() and not Path(params.eval_out).exists()


def test_pool_without_metadata_is_rejected(layout, tmp_path):
    rows = make_pool(10)
    del rows[4]["family"]
    write_jsonl(tmp_path / "examples.jsonl", rows)
    with pytest.raises(InputError, match=r"examples.jsonl:5: family: missing"):
        split.run(layout())


def test_eval_fraction_is_validated_at_the_edge(tmp_path):
    from nava_instruct.params import load_section

    path = tmp_path / "params.yaml"
    path.write_text(section_text("split", "  eval_fraction: 1.5\n"))
    with pytest.raises(InputError, match=r"params.yaml:2: split.eval_fraction"):
        load_section(split.Params, "split", path)
