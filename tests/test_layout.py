"""Each path and default is said once: params.yaml, its ``paths`` section, and dvc.yaml agree."""

import importlib
import re

import pytest
import yaml

from helpers import REPO, stage_params
from nava_instruct import layout, numerics
from nava_instruct.cli import STAGES
from nava_instruct.stages import evaluate

PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
PIPELINE = yaml.safe_load((REPO / "dvc.yaml").read_text())
INTERPOLATION = re.compile(r"\$\{paths\.([a-z_]+)\}")


def stage_module(name: str):
    return importlib.import_module(f"nava_instruct.stages.{name}")


def declared_files(stage: dict) -> list[str]:
    """Every path a dvc.yaml stage names: deps, outs, metrics and plots."""
    entries = stage.get("deps", []) + [e for key in ("outs", "metrics", "plots") for e in stage.get(key, [])]
    return [next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries]


@pytest.mark.parametrize("name", list(STAGES))
def test_a_value_params_yaml_sets_has_no_second_default_in_code(name):
    params = stage_module(name).Params
    restated = [
        field for field in PARAMS[name] if field in params.model_fields and not params.model_fields[field].is_required()
    ]
    assert restated == [], f"{name}: defaults in code for values params.yaml sets"


def test_the_numerics_fallback_agrees_with_params_yaml():
    # A params file without the section runs under the default profile (numerics.load): the one default kept.
    assert numerics.Params().profile == PARAMS["numerics"]["profile"]


def test_stage_sections_name_only_the_paths_section_s_paths():
    known = set(PARAMS["paths"].values())
    for name in STAGES:
        for field, value in PARAMS[name].items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str) and "/" in item:
                    assert item in known, f"params.yaml: {name}.{field}: {item} is not in the paths section"


@pytest.mark.parametrize("name", list(STAGES))
def test_dvc_yaml_takes_every_artifact_path_from_the_paths_section(name):
    fields = set(layout.Paths.model_fields)
    for path in declared_files(PIPELINE["stages"][name]):
        if path.startswith(("src/", "requirements")) or path in ("params.yaml", "dvc.yaml"):
            continue
        keys = INTERPOLATION.findall(path)
        assert keys, f"dvc.yaml: stage {name}: {path} is a literal path, not ${{paths.…}}"
        assert set(keys) <= fields, f"dvc.yaml: stage {name}: {path} names no entry of params.yaml's paths"


def test_paths_section_loads_and_every_entry_is_used_somewhere():
    paths = layout.paths(REPO / "params.yaml")
    used = "\n".join([(REPO / "dvc.yaml").read_text(), *(str(v) for s in STAGES for v in PARAMS[s].values())])
    unused = [
        field
        for field, value in paths.model_dump().items()
        if f"${{paths.{field}}}" not in used and value not in used and field not in ("signatures", "public_key")
    ]
    assert unused == []


def test_evaluate_backends_follow_the_quantizations_convert_writes():
    params = stage_params(evaluate, quantizations=["Q4_K_M"])
    names = [backend.name for backend in evaluate.default_backends(params)]
    assert names == ["base", "f16", "Q4_K_M", "Q4_K_M+grammar", "merged-hf"]
    params = stage_params(evaluate, quantizations=["Q8_0", "Q4_K_M", "Q5_K_M"])
    backends = {backend.name: backend for backend in evaluate.default_backends(params)}
    assert list(backends) == ["base", "f16", "Q4_K_M", "Q5_K_M", "Q8_0", "Q8_0+grammar", "merged-hf"]
    assert backends["Q8_0+grammar"].path.endswith("models/gguf/model-Q8_0.gguf") and backends["Q8_0"].limit is None


def test_the_server_serves_the_first_quantization_by_default(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("[Q4_K_M, Q8_0]", "[Q5_K_M, Q4_K_M]")
    (tmp_path / "params.yaml").write_text(text)
    assert layout.served_model(tmp_path / "params.yaml").as_posix() == "models/gguf/model-Q5_K_M.gguf"
    assert layout.served_model(REPO / "params.yaml").as_posix() == "models/gguf/model-Q4_K_M.gguf"
