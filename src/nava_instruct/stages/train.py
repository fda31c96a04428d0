"""Stage ``train``: fit a LoRA (or QLoRA) adapter to the NAVA-Instruct train split.

Inputs: the base folder written by stage ``base`` and the train/eval JSONL files. Outputs: the
adapter (``adapter_dir``: adapter_model.safetensors, adapter_config.json and training_info.json,
which records the settings in force, determinism included); ``metrics_dir``, DVCLive's folder:
the stage's metrics in metrics.json and the loss curves in plots/metrics/train_loss.tsv and
eval_loss.tsv, written as training goes so that ``dvc exp show`` and ``dvc plots`` follow a run;
and the curves drawn in ``plots_dir``/train_loss.png.

The run reads as its phases: ``setup`` (seeds, processes, tokenizer), ``load_data`` (encoding and
the plan of every step), ``setup_model`` (adapter, optimizer, schedule), ``start_or_resume``,
``train_loop``, and ``save``.

One process: ``nava-instruct train``. Several: ``accelerate launch --multi_gpu --num_processes N
-m nava_instruct.cli train`` runs DDP, over NCCL on GPUs or gloo on CPU (there ``--cpu`` alone
would start a single process unless MPI is installed); ``distributed: fsdp`` shards a large model
over GPUs instead.

A short loop over Accelerate rather than the transformers Trainer, so that each guarantee can be
read off the code:

- Speed: batches of similar length, padded per batch (``batching``). The loss is the mean over
  the supervised tokens of the whole optimizer step, however it is cut into micro-batches and
  processes, so padding and grouping never change what is learnt.
- Determinism: seeded before the adapter is created, deterministic kernels on; the same params,
  data and environment give a byte-identical adapter on CPU.
- Resume: every ``checkpoint_every`` steps the adapter weights, optimizer, scheduler, every
  process's RNG state and the loss history are saved. Run again after a crash or a kill, the stage
  goes on from the last checkpoint and writes the adapter an uninterrupted run writes. A
  checkpoint from other params, data or base is discarded.
- The training trail: every checkpoint stays in ``trail_dir``, from step 0 to the last step, with
  ``manifest.json`` listing each one's step and the sha256 of its files. ``audit --spot`` replays
  stretches of it: ``nava-instruct train --until STEP`` resumes from the trail's newest checkpoint,
  stops at STEP with its checkpoint, and writes nothing else.

Precision and kernels come from the numerics profile that ``run`` is handed (``numerics``). The default,
``portable``, trains in float32 on kernels pinned so that every x86-64 CPU with AVX2 writes the
same adapter. A bf16 profile keeps the frozen base in bf16 and runs under autocast, while the
adapter and its optimizer stay float32: faster, and bit-identical only within its class.
Prompts longer than ``max_length`` lose their middle, and examples whose response does not fit
are dropped; both are counted in the metrics (see ``prompting.encode``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import resource
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# OpenMP threads that spin while they wait stall when another process holds one of a small shared
# CPU's cores (a step took 8x longer on 2 cores); waiting passively avoids that. It only takes
# effect if set before torch loads OpenMP, as it is when the CLI imports this module.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import accelerate
import peft
import torch
import transformers
from accelerate import Accelerator, FullyShardedDataParallelPlugin
from accelerate.logging import get_logger
from accelerate.utils import DistributedType, set_seed
from dvclive import Live
from peft import (
    LoraConfig,
    get_peft_model,
    get_peft_model_state_dict,
    prepare_model_for_kbit_training,
    set_peft_model_state_dict,
)
from peft.tuners.tuners_utils import BaseTunerLayer
from pydantic import Field
from safetensors.torch import load_file, save_file
from tqdm import tqdm
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    BitsAndBytesConfig,
    PreTrainedTokenizerBase,
    get_scheduler,
)

from nava_instruct import numerics
from nava_instruct.errors import InputError, RunError
from nava_instruct.fileio import atomic_dir, atomic_path, sha256_file, write_json
from nava_instruct.layout import BASE_MANIFEST, TRAINING_INFO
from nava_instruct.lm import onednn_linear
from nava_instruct.lm.batching import (
    EncodedSet,
    Plan,
    batch_loss,
    collate,
    encode_file,
    eval_batches,
)
from nava_instruct.lm.prompting import MIN_PROMPT_TOKENS, Encoded, PromptFormat
from nava_instruct.params import StageParams
from nava_instruct.trail import (
    CHECKPOINT_PREFIX,
    CHECKPOINT_STATE,
    CHECKPOINT_WEIGHTS,
    MANIFEST,
    checkpoint_name,
    file_hashes,
)

log = get_logger(__name__)  # logs on the main process only

MIXED_PRECISION = {"fp32": "no", "bf16": "bf16"}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
SCHEDULERS = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}
CURVES = ("train_loss", "eval_loss")  # loss per supervised token: at every optimizer step, and at each evaluation
# torch's CPU allocator reports a failed allocation as a plain RuntimeError that names it.
CPU_ALLOCATOR = "DefaultCPUAllocator"


PATH_PARAMS = {"base_dir", "train_file", "eval_file", "adapter_dir", "trail_dir", "metrics_dir", "plots_dir"}


class Params(StageParams):
    base_dir: str
    train_file: str
    eval_file: str
    adapter_dir: str
    trail_dir: str  # every checkpoint of the run, kept: the training trail (see the module docstring)
    metrics_dir: str  # DVCLive's folder: metrics.json and plots/metrics/<curve>.tsv
    plots_dir: str  # train_loss.png
    method: Literal["lora", "qlora"]
    r: int = Field(ge=1)
    alpha: int = Field(ge=1)
    dropout: float = Field(ge=0, lt=1)  # LoRA dropout costs about 20% of a CPU step
    target_modules: list[str] = Field(min_length=1)
    # Adapters on the top N decoder layers only (all of them if the model has fewer; None: all). The backward pass
    # stops below the lowest adapted layer: the main lever on CPU training speed (benchmarks/train_throughput.py).
    adapted_layers: int | None = Field(ge=1)
    lr: float = Field(gt=0)
    lr_scheduler: Literal["linear", "cosine", "constant"]
    warmup_steps: int = Field(ge=0)
    weight_decay: float = Field(ge=0)
    max_grad_norm: float = Field(gt=0)
    epochs: int = Field(ge=1)
    # Optimizer steps, cycling through epochs as needed; None: run `epochs` epochs.
    max_steps: int | None = Field(ge=1)
    batch_size: int = Field(ge=1)  # per process; the effective batch is batch_size × grad_accum × processes
    grad_accum: int = Field(ge=1)
    max_length: int = Field(gt=MIN_PROMPT_TOKENS)
    seed: int
    eval_examples: int | None = Field(ge=1)  # the first N of eval_file (in file order); None: all of them
    eval_every: int = Field(ge=0)  # 0: only before and after training
    checkpoint_every: int = Field(ge=0)  # 0: no checkpoints, no resume
    prompt_format: PromptFormat
    distributed: Literal["ddp", "fsdp"]  # used when launched on several processes
    gradient_checkpointing: bool


def check_device(params: Params, profile: numerics.Profile, world: int) -> None:
    """Refuse, in one line, what the numerics profile in force cannot run: nothing is switched silently."""
    cuda = profile.device == "cuda"
    if params.method == "qlora" and not (cuda and profile.precision == "bf16"):
        raise params.field_error(
            "method",
            f"qlora needs a CUDA GPU and a bf16 profile (bitsandbytes 4-bit), not numerics '{profile.name}'; use lora",
        )
    if params.method == "qlora" and params.distributed == "fsdp" and world > 1:
        raise params.field_error("distributed", "qlora runs with ddp, not fsdp")
    if params.distributed == "fsdp" and world > 1 and not cuda:
        raise params.field_error("distributed", "fsdp needs CUDA GPUs; use ddp on CPU")


def make_deterministic(seed: int) -> dict:
    """Seed everything and pin kernel choices; return the settings in force, for the record."""
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # before the first cuBLAS call
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    set_seed(seed)
    return {
        "seed": seed,
        "use_deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
        "torch_threads": torch.get_num_threads(),
    }


def load_model(params: Params, profile: numerics.Profile, trust_remote_code: bool, device_index: int):
    """The base model with a fresh LoRA adapter, computing as ``profile`` says; only the adapter is trainable."""
    precision = profile.precision
    checkpointing = {"use_reentrant": False}
    if params.method == "qlora":
        quantization = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        model = AutoModelForCausalLM.from_pretrained(
            params.base_dir,
            quantization_config=quantization,
            dtype=torch.bfloat16,
            device_map={"": device_index},
            trust_remote_code=trust_remote_code,
        )
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=params.gradient_checkpointing, gradient_checkpointing_kwargs=checkpointing
        )
    else:
        model = AutoModelForCausalLM.from_pretrained(
            params.base_dir, dtype=DTYPES[precision], trust_remote_code=trust_remote_code
        )
        if params.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=checkpointing)
    model.config.use_cache = False
    layers = model.config.num_hidden_layers
    top = list(range(max(0, layers - params.adapted_layers), layers)) if params.adapted_layers else None
    config = LoraConfig(
        r=params.r,
        lora_alpha=params.alpha,
        lora_dropout=params.dropout,
        target_modules=params.target_modules,
        layers_to_transform=top,
        task_type="CAUSAL_LM",
    )
    set_seed(params.seed)  # the adapter's initial weights depend on the seed alone
    try:
        model = get_peft_model(model, config)
    except ValueError as error:
        raise params.field_error("target_modules", str(error).splitlines()[0]) from None
    # PEFT keeps the names as a set, which adapter_config.json would list in hash order.
    model.peft_config["default"].target_modules = sorted(params.target_modules)
    if profile.onednn_linears:
        onednn_linear.route(model)
    if precision != "fp32":
        # Autocast runs the adapter's matmuls in 16 bits anyway: skip PEFT's float32 copy of each input.
        for layer in model.modules():
            if isinstance(layer, BaseTunerLayer):
                layer.cast_input_dtype_enabled = False
    return model


def adapter_checkpoints(accelerator: Accelerator, model) -> None:
    """Checkpoints hold the adapter's weights only, in PEFT's keys: the frozen base is reloaded from base_dir.

    Under FSDP, Accelerate saves and loads the sharded model itself and these hooks stay out.
    """
    if accelerator.distributed_type == DistributedType.FSDP:
        return
    adapter = accelerator.unwrap_model(model)

    def save(models, weights, output_dir):
        weights.clear()  # instead of the whole model
        if accelerator.is_main_process:
            save_file(get_peft_model_state_dict(adapter), Path(output_dir) / CHECKPOINT_WEIGHTS)

    def load(models, input_dir):
        models.clear()
        # Loaded on the CPU; set_peft_model_state_dict copies the weights onto the model's device.
        set_peft_model_state_dict(adapter, load_file(Path(input_dir) / CHECKPOINT_WEIGHTS))

    accelerator.register_save_state_pre_hook(save)
    accelerator.register_load_state_pre_hook(load)


def checkpoint_path(trail: Path, step: int) -> Path:
    return trail / checkpoint_name(step)


def checkpoints(trail: Path) -> list[Path]:
    """The trail's complete checkpoints, oldest first."""
    return sorted(path for path in trail.glob(f"{CHECKPOINT_PREFIX}*") if path.suffix != ".tmp")


def save_checkpoint(accelerator: Accelerator, trail: Path, state: dict) -> None:
    """Every process writes its part into a temporary folder; the main one then renames it. Older ones stay."""
    final = checkpoint_path(trail, state["step"])
    tmp = final.with_suffix(".tmp")
    accelerator.save_state(tmp)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_json(tmp / CHECKPOINT_STATE, state)
        os.replace(tmp, final)
    accelerator.wait_for_everyone()


def write_manifest(trail: Path, fingerprint: str, checkpoint_every: int) -> None:
    """The trail's manifest.json: each checkpoint's step and the sha256 of each of its files."""
    listed = [
        {"step": json.loads((path / CHECKPOINT_STATE).read_text())["step"], "files": file_hashes(path)}
        for path in checkpoints(trail)
    ]
    manifest = {"fingerprint": fingerprint, "checkpoint_every": checkpoint_every, "checkpoints": listed}
    write_json(trail / MANIFEST, manifest)


def newest_checkpoint(trail: Path, fingerprint: str) -> Path | None:
    """The trail's newest checkpoint if it is one of this very run (same fingerprint)."""
    done = checkpoints(trail)
    if done and json.loads((done[-1] / CHECKPOINT_STATE).read_text())["fingerprint"] == fingerprint:
        return done[-1]
    return None


def resume(accelerator: Accelerator, trail: Path, fingerprint: str) -> dict | None:
    """Load the newest checkpoint of this very run, if there is one. A trail of another run (other params, data or
    base) is cleared out, and so are unfinished checkpoints."""
    newest = newest_checkpoint(trail, fingerprint)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process and trail.exists():
        for path in trail.iterdir():
            if newest is None or path.suffix == ".tmp":
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    accelerator.wait_for_everyone()
    if newest is None:
        return None
    accelerator.load_state(newest)
    state = json.loads((newest / CHECKPOINT_STATE).read_text())
    log.info("resuming from %s (step %d)", newest, state["step"])
    return state


@torch.no_grad()
def supervised_loss(model, data: EncodedSet, batch_size: int, accelerator: Accelerator, pad_id: int) -> float:
    """Mean loss per supervised token over the whole eval set."""
    model.eval()
    total = torch.zeros(2, dtype=torch.float64, device=accelerator.device)
    for indices, counts in eval_batches(
        data.examples, batch_size, accelerator.num_processes, accelerator.process_index
    ):
        batch = collate([data.examples[i] for i in indices], pad_id, accelerator.device)
        loss, tokens = batch_loss(model, batch)
        if counts:
            total += torch.stack([loss.double(), tokens.double()])
    model.train()
    total = accelerator.reduce(total, "sum")
    return (total[0] / total[1]).item()


def train_step(model, accelerator: Accelerator, batches: list[list[Encoded]], supervised: int, pad_id: int) -> float:
    """Accumulate the gradients of one optimizer step; return its loss per supervised token.

    Each micro-batch's summed loss is divided by the supervised tokens of the whole step over every
    process, so the gradient is that of the step's mean token loss (DDP averages over processes,
    hence the factor ``num_processes``). Gradients are synchronised after the last micro-batch only.
    """
    total = torch.zeros((), device=accelerator.device)
    for k, examples in enumerate(batches):
        batch = collate(examples, pad_id, accelerator.device)
        with contextlib.nullcontext() if k == len(batches) - 1 else accelerator.no_sync(model):
            loss, _ = batch_loss(model, batch)
            accelerator.backward(loss * accelerator.num_processes / supervised)
        total += loss.detach()
    return accelerator.reduce(total, "sum").item() / supervised


def exhausted_memory(error: BaseException) -> str | None:
    """The memory that ``error`` says ran out, or None if it is another error."""
    if isinstance(error, MemoryError) or CPU_ALLOCATOR in str(error):
        return "CPU memory"
    if isinstance(error, torch.OutOfMemoryError):
        return "GPU memory"
    return None


@contextlib.contextmanager
def out_of_memory_as_run_error(params: Params, when: str) -> Iterator[None]:
    """Running out of GPU or CPU memory becomes one RunError line: what ran out, when, and what to lower."""
    try:
        yield
    except (RuntimeError, MemoryError) as error:  # torch.OutOfMemoryError is a RuntimeError
        memory = exhausted_memory(error)
        if memory is None:
            raise
        levers = "lower batch_size (raise grad_accum to keep the effective batch) or max_length"
        if not params.gradient_checkpointing:
            levers += ", or set gradient_checkpointing: true"
        raise RunError(
            f"train: out of {memory} {when} (batch_size={params.batch_size}, max_length={params.max_length}): {levers}"
        ) from None


class LossCurves:
    """The loss curves: in the checkpointed state, and through DVCLive on the main process.

    DVCLive appends each point to ``plots/metrics/<curve>.tsv`` in its folder and rewrites metrics.json
    with the latest ones, so ``dvc exp show`` and ``dvc plots show`` follow the run while it trains.
    The folder starts afresh from the state: a resumed run replays its checkpoint's points first and
    ends with the very files an uninterrupted run writes.
    """

    def __init__(self, state: dict, live_dir: str, main_process: bool):
        self.state = state
        # dvc.yaml declares these metrics and plots and `dvc exp run` saves the experiment: DVCLive does neither.
        self.live = Live(dir=live_dir, save_dvc_exp=False, dvcyaml=None) if main_process else None
        for name in CURVES:
            for step, loss in state[name]:
                self._log(name, step, loss)

    def add(self, name: str, step: int, loss: float) -> None:
        self.state[name].append([step, loss])
        self._log(name, step, loss)

    def _log(self, name: str, step: int, loss: float) -> None:
        if self.live is not None:
            self.live.step = step  # the optimizer step, not DVCLive's own count of calls
            self.live.log_metric(name, loss)
            self.live.make_summary()

    def close(self, metrics: dict) -> None:
        """The stage's metrics join the last point of each curve in DVCLive's metrics.json."""
        if self.live is not None:
            self.live.summary.update(metrics)
            self.live.end()


def plot(state: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot(*zip(*state["train_loss"]), linewidth=1, label="train (per step)")
    axes.plot(*zip(*state["eval_loss"]), "o-", label="eval")
    axes.set(
        xlabel="optimizer step", ylabel="loss per supervised token (nats)", title="LoRA fine-tuning on NAVA-Instruct"
    )
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)


# --- The phases of a run, in order: setup, data, model, start or resume, loop, save. ---


@dataclass(frozen=True)
class Session:
    """What ``setup`` makes: the processes and the tokenizer."""

    accelerator: Accelerator
    tokenizer: PreTrainedTokenizerBase
    pad_id: int
    trust_remote_code: bool
    determinism: dict  # the settings in force, recorded with the adapter
    started: float  # time.perf_counter() at the start, for the wall time


@dataclass(frozen=True)
class Data:
    """What ``load_data`` makes: the encoded sets and the plan of every optimizer step."""

    sets: dict[str, EncodedSet]  # "train" and "eval"
    plan: Plan
    total_steps: int


@dataclass(frozen=True)
class Learner:
    """What ``setup_model`` makes: the model with its adapter, prepared for the processes, and what steps it."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler


@dataclass(frozen=True)
class LoopStats:
    """What this run of ``train_loop`` did: a resumed run times only the steps it ran itself."""

    resumed_from: int
    train_seconds: float
    tokens: int


def setup(params: Params, profile: numerics.Profile, world: int, manifest_path: Path) -> Session:
    """Seed and pin the kernels, start the processes (DDP or FSDP when launched on several), load the tokenizer."""
    started = time.perf_counter()
    determinism = make_deterministic(params.seed)  # before anything draws a random number
    fsdp = (
        FullyShardedDataParallelPlugin(fsdp_version=2, auto_wrap_policy="transformer_based_wrap")
        if params.distributed == "fsdp" and world > 1
        else None
    )
    # cpu=True without CUDA: processes started by torchrun (or `accelerate launch --multi_gpu`) then join over gloo.
    accelerator = Accelerator(
        cpu=profile.device == "cpu", mixed_precision=MIXED_PRECISION[profile.precision], fsdp_plugin=fsdp
    )
    logging.getLogger("accelerate").setLevel(logging.WARNING)  # its per-checkpoint chatter
    trust_remote_code = json.loads(manifest_path.read_text())["trust_remote_code"]
    tokenizer = AutoTokenizer.from_pretrained(params.base_dir, trust_remote_code=trust_remote_code)
    # Padding is masked by position, so without a pad token any id will do.
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return Session(accelerator, tokenizer, pad_id, trust_remote_code, determinism, started)


def load_data(params: Params, session: Session) -> Data:
    """Encode both sets (prompts cut to max_length, examples whose response does not fit dropped); plan the steps."""
    tokenizer, max_length, prompt_format = session.tokenizer, params.max_length, params.prompt_format
    sets = {
        "train": encode_file(params.train_file, tokenizer, max_length, prompt_format),
        "eval": encode_file(params.eval_file, tokenizer, max_length, prompt_format, limit=params.eval_examples),
    }
    for name, encoded in sets.items():
        log.info(
            "%s: %d examples, %d prompts cut to max_length=%d, %d dropped (response too long)",
            name,
            len(encoded.examples),
            encoded.truncated,
            params.max_length,
            encoded.dropped,
        )
    processes = session.accelerator.num_processes
    plan = Plan(sets["train"].examples, params.batch_size, params.grad_accum, processes, params.seed)
    if plan.steps_per_epoch == 0:
        raise InputError(
            params.train_file,
            f"{len(sets['train'].examples)} examples fill no step of {plan.per_step} batches of {params.batch_size}",
        )
    return Data(sets, plan, total_steps=params.max_steps or params.epochs * plan.steps_per_epoch)


def setup_model(params: Params, profile: numerics.Profile, session: Session, total_steps: int) -> Learner:
    """The base with a fresh adapter, its optimizer and learning-rate schedule, ready for the processes."""
    accelerator = session.accelerator
    model = load_model(params, profile, session.trust_remote_code, accelerator.local_process_index)
    # The fused kernel gave the same bits on real and emulated CPUs where the for-each one did not (docs/numerics.md).
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=params.lr, weight_decay=params.weight_decay, fused=True
    )
    scheduler = get_scheduler(
        SCHEDULERS[params.lr_scheduler], optimizer, num_warmup_steps=params.warmup_steps, num_training_steps=total_steps
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    # Not prepared, which would step it once per process, but saved and restored with every checkpoint.
    accelerator.register_for_checkpointing(scheduler)
    adapter_checkpoints(accelerator, model)
    return Learner(model, optimizer, scheduler)


def run_inputs(params: Params, profile: numerics.Profile, manifest_path: Path, processes: int) -> dict:
    """What the adapter is made of: params but paths, numerics, processes, and the sha256 of the base and of the data.
    Paths are left out, so that a trail replays in any checkout (audit --spot)."""
    return {
        "params": params.model_dump(exclude=PATH_PARAMS),
        "numerics": profile.name,
        "base": sha256_file(manifest_path),
        "processes": processes,
        "train": sha256_file(params.train_file),
        "eval": sha256_file(params.eval_file),
    }


def eval_loss(params: Params, session: Session, data: Data, learner: Learner) -> float:
    """The loss per supervised token over the eval set; every process takes part."""
    return supervised_loss(learner.model, data.sets["eval"], params.batch_size, session.accelerator, session.pad_id)


def fingerprint_of(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def start_or_resume(params: Params, session: Session, data: Data, learner: Learner, fingerprint: str) -> dict:
    """The state of the newest checkpoint made from these very inputs, or a fresh one with the eval loss at step 0."""
    state = resume(session.accelerator, Path(params.trail_dir), fingerprint)
    if state is None:
        with out_of_memory_as_run_error(params, "in the eval before step 1"):
            before = eval_loss(params, session, data, learner)
        state = {"fingerprint": fingerprint, "step": 0, "train_loss": [], "eval_loss": [[0, before]], "tokens": 0}
        log.info("eval loss before training: %.4f", before)
        if params.checkpoint_every:  # the trail starts where training does
            save_checkpoint(session.accelerator, Path(params.trail_dir), state)
    return state


def optimizer_step(params: Params, session: Session, data: Data, learner: Learner, step: int) -> tuple[float, int]:
    """One optimizer step over this process's share of the plan; its loss per supervised token, and its tokens."""
    accelerator, model = session.accelerator, learner.model
    work = data.plan.step(step - 1, accelerator.process_index)  # the plan counts steps from 0
    batches = [[data.sets["train"].examples[i] for i in batch] for batch in work.batches]
    loss = train_step(model, accelerator, batches, work.supervised, session.pad_id)
    accelerator.clip_grad_norm_(model.parameters(), params.max_grad_norm)
    learner.optimizer.step()
    learner.scheduler.step()
    learner.optimizer.zero_grad(set_to_none=True)
    return loss, work.tokens


def train_loop(
    params: Params, session: Session, data: Data, learner: Learner, curves: LossCurves, until: int
) -> LoopStats:
    """The optimizer steps from the state's on to step ``until``, with evaluations and checkpoints on their schedule;
    the evaluation after the last step when ``until`` is the last."""
    state, total = curves.state, data.total_steps
    resumed_from, seconds, tokens = state["step"], 0.0, 0
    learner.model.train()  # from_pretrained leaves a model in eval mode
    main = session.accelerator.is_main_process
    bar = tqdm(total=until, initial=resumed_from, desc="train", unit="step", disable=not main)
    for step in range(resumed_from + 1, until + 1):  # optimizer steps, counted from 1
        with out_of_memory_as_run_error(params, f"at step {step} of {total}"):
            tick = time.perf_counter()
            loss, step_tokens = optimizer_step(params, session, data, learner, step)
            seconds += time.perf_counter() - tick
            tokens += step_tokens
            state["step"], state["tokens"] = step, state["tokens"] + step_tokens
            curves.add("train_loss", step, loss)
            bar.set_postfix(loss=f"{loss:.3f}", eval=f"{state['eval_loss'][-1][1]:.3f}")
            bar.update()
            if step < total and params.eval_every and step % params.eval_every == 0:
                curves.add("eval_loss", step, eval_loss(params, session, data, learner))
            # The last step's checkpoint, before its evaluation, ends the trail where the adapter is.
            if params.checkpoint_every and (step % params.checkpoint_every == 0 or step == total):
                save_checkpoint(session.accelerator, Path(params.trail_dir), state)
    bar.close()
    if until == total:
        with out_of_memory_as_run_error(params, f"in the eval after step {total}"):
            curves.add("eval_loss", total, eval_loss(params, session, data, learner))
    return LoopStats(resumed_from, seconds, tokens)


def stage_metrics(
    params: Params, profile: numerics.Profile, session: Session, data: Data, state: dict, stats: LoopStats
) -> dict:
    """The run's figures: losses, throughput, peak memory, and what max_length cut or dropped from the data."""
    accelerator = session.accelerator
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    last10 = [loss for _, loss in state["train_loss"][-10:]]
    metrics = {
        "eval_loss_before": state["eval_loss"][0][1],
        "eval_loss_after": state["eval_loss"][-1][1],
        "train_loss_last10": sum(last10) / len(last10),
        "steps": data.total_steps,
        "epochs": round(data.total_steps / data.plan.steps_per_epoch, 3),
        "resumed_from_step": stats.resumed_from,
        "wall_time_s": round(time.perf_counter() - session.started, 1),
        "train_time_s": round(stats.train_seconds, 1),
        "train_tokens": state["tokens"],
        "train_tokens_per_s": round(stats.tokens / stats.train_seconds, 1) if stats.train_seconds else None,
        # The largest over the processes: every process takes part in the gather.
        "peak_rss_mb": round(accelerator.gather(torch.tensor([peak_rss], device=accelerator.device)).max().item()),
        **{
            f"{name}_{key}": value
            for name, encoded in data.sets.items()
            for key, value in (
                ("examples", len(encoded.examples)),
                ("truncated", encoded.truncated),
                ("dropped", encoded.dropped),
            )
        },
    }
    if profile.device == "cuda":
        metrics["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return metrics


def training_info(params: Params, profile: numerics.Profile, session: Session, inputs: dict, steps: int) -> dict:
    """training_info.json, kept with the adapter: what it was trained on and under, determinism included."""
    processes = session.accelerator.num_processes
    return {
        "method": params.method,
        "prompt_format": params.prompt_format,
        "numerics": numerics.record(profile),
        "processes": processes,
        "distributed": params.distributed if processes > 1 else None,
        "device": torch.cuda.get_device_name() if profile.device == "cuda" else "cpu",
        "steps": steps,
        "base": {"dir": params.base_dir, "manifest_sha256": inputs["base"]},
        "data": {name: {"file": getattr(params, f"{name}_file"), "sha256": inputs[name]} for name in ("train", "eval")},
        "determinism": session.determinism,
        "versions": {module.__name__: module.__version__ for module in (torch, transformers, peft, accelerate)},
    }


def save(params: Params, session: Session, learner: Learner, curves: LossCurves, info: dict, metrics: dict) -> None:
    """The adapter (atomically, as a folder), the metrics through DVCLive, the loss plot and the trail's manifest."""
    accelerator = session.accelerator
    weights = accelerator.get_state_dict(learner.model)  # every process takes part (FSDP gathers the shards)
    if accelerator.is_main_process:
        with atomic_dir(params.adapter_dir) as tmp:
            accelerator.unwrap_model(learner.model).save_pretrained(tmp, state_dict=weights)
            write_json(tmp / TRAINING_INFO, info)
        curves.close(metrics)
        plot(curves.state, Path(params.plots_dir) / "train_loss.png")
        if params.checkpoint_every:
            write_manifest(Path(params.trail_dir), curves.state["fingerprint"], params.checkpoint_every)
    accelerator.wait_for_everyone()


def train(params: Params, profile: numerics.Profile, world: int, manifest_path: Path, until: int | None) -> dict:
    session = setup(params, profile, world, manifest_path)
    data = load_data(params, session)
    learner = setup_model(params, profile, session, data.total_steps)
    inputs = run_inputs(params, profile, manifest_path, session.accelerator.num_processes)
    fingerprint = fingerprint_of(inputs)
    if until is not None:  # a replay of the trail: from its newest checkpoint to step `until`, which must be one
        return replay(params, session, data, learner, fingerprint, until)
    state = start_or_resume(params, session, data, learner, fingerprint)
    curves = LossCurves(state, params.metrics_dir, session.accelerator.is_main_process)
    stats = train_loop(params, session, data, learner, curves, data.total_steps)
    metrics = stage_metrics(params, profile, session, data, curves.state, stats)
    save(params, session, learner, curves, training_info(params, profile, session, inputs, data.total_steps), metrics)
    log.info(
        "eval loss %.4f -> %.4f in %d steps; adapter in %s",
        metrics["eval_loss_before"],
        metrics["eval_loss_after"],
        data.total_steps,
        params.adapter_dir,
    )
    return metrics


def replay(params: Params, session: Session, data: Data, learner: Learner, fingerprint: str, until: int) -> dict:
    """The steps from the trail's newest checkpoint to ``until``, ending with that step's checkpoint; nothing else is
    written."""
    if newest_checkpoint(Path(params.trail_dir), fingerprint) is None:
        raise InputError(params.trail_dir, "no checkpoint of this run (these params, data and base) to replay from")
    state = resume(session.accelerator, Path(params.trail_dir), fingerprint)
    start, every = state["step"], params.checkpoint_every
    if not (start < until <= data.total_steps and every and (until % every == 0 or until == data.total_steps)):
        raise InputError(
            params.trail_dir,
            f"cannot replay to step {until}: the trail resumes at step {start} of {data.total_steps}"
            f" and keeps a checkpoint every {every} steps",
        )
    curves = LossCurves(state, params.metrics_dir, main_process=False)  # the curves in the state only
    stats = train_loop(params, session, data, learner, curves, until)
    log.info("replayed steps %d to %d in %.0f s", start + 1, until, stats.train_seconds)
    return {"from_step": start, "to_step": until, "train_time_s": round(stats.train_seconds, 1)}


def run(params: Params, profile: numerics.Profile, until: int | None = None) -> dict:
    """Train under ``profile``, the numerics profile ``numerics.apply`` put in force before torch loaded; with
    ``until``, replay the trail to that step instead (see ``replay``)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    check_device(params, profile, world)
    manifest_path = Path(params.base_dir) / BASE_MANIFEST
    if not manifest_path.is_file():
        raise InputError(params.base_dir, "base model not found: run `nava-instruct base` (or `dvc repro base`) first")
    with out_of_memory_as_run_error(params, "while loading the model or saving the adapter"):
        return train(params, profile, world, manifest_path, until)
