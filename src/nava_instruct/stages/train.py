"""Stage ``train``: fit a LoRA (or QLoRA) adapter to the NAVA-Instruct train split.

Inputs: the base folder written by stage ``base`` and the train/eval JSONL files. Outputs: the
adapter (``adapter_dir``: adapter_model.safetensors, adapter_config.json and training_info.json,
which records the settings in force, determinism included), ``metrics_file``, and the loss
curves in ``plots_dir`` (train_loss.tsv, eval_loss.tsv, train_loss.png).

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

Precision and kernels come from the numerics profile in force (``numerics``). The default,
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
    get_scheduler,
)

from nava_instruct import numerics
from nava_instruct.errors import InputError
from nava_instruct.fileio import (
    atomic_dir,
    atomic_path,
    sha256_file,
    write_json,
    write_text,
)
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

log = get_logger(__name__)  # logs on the main process only

MIXED_PRECISION = {"fp32": "no", "bf16": "bf16"}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
SCHEDULERS = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}
CHECKPOINT_WEIGHTS = "adapter_weights.safetensors"


class Params(StageParams):
    base_dir: str
    train_file: str
    eval_file: str
    adapter_dir: str
    checkpoint_dir: str
    metrics_file: str
    plots_dir: str
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
    model.peft_config["default"].target_modules = sorted(
        params.target_modules
    )  # PEFT keeps a set: written in hash order
    if profile.onednn_linears:
        onednn_linear.route(model)
    if (
        precision != "fp32"
    ):  # autocast runs the adapter's matmuls in 16 bits anyway: skip PEFT's float32 copy of each input
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
        set_peft_model_state_dict(
            adapter, load_file(Path(input_dir) / CHECKPOINT_WEIGHTS)
        )  # copied onto the model's device

    accelerator.register_save_state_pre_hook(save)
    accelerator.register_load_state_pre_hook(load)


def latest_checkpoint(root: Path, fingerprint: str) -> Path | None:
    """The newest complete checkpoint of this very run (same fingerprint), if any."""
    done = sorted(path for path in root.glob("step-*") if path.suffix != ".tmp")
    if done and json.loads((done[-1] / "state.json").read_text())["fingerprint"] == fingerprint:
        return done[-1]
    return None


def save_checkpoint(accelerator: Accelerator, root: Path, state: dict) -> None:
    """Every process writes its part into a temporary folder; the main one then renames it."""
    final = root / f"step-{state['step']:08d}"
    tmp = final.with_suffix(".tmp")
    accelerator.save_state(tmp)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_json(tmp / "state.json", state)
        os.replace(tmp, final)
        for old in root.glob("step-*"):
            if old != final:
                shutil.rmtree(old)
    accelerator.wait_for_everyone()


def resume(accelerator: Accelerator, root: Path, fingerprint: str) -> dict | None:
    """Load the newest checkpoint of this very run, if there is one; clear out every other."""
    checkpoint = latest_checkpoint(root, fingerprint)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process and root.exists():
        for path in root.iterdir():  # unfinished ones, and any from other params, data or base
            if path != checkpoint:
                shutil.rmtree(path)
    if checkpoint is None:
        return None
    accelerator.load_state(checkpoint)
    state = json.loads((checkpoint / "state.json").read_text())
    log.info("resuming from %s (step %d)", checkpoint, state["step"])
    return state


@torch.no_grad()
def evaluate(model, data: EncodedSet, batch_size: int, accelerator: Accelerator, pad_id: int) -> float:
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


def write_outputs(params: Params, accelerator: Accelerator, model, info: dict, metrics: dict, state: dict) -> None:
    """Adapter (atomically, as a folder), metrics and plots; then the checkpoints go."""
    weights = accelerator.get_state_dict(model)  # every process takes part (FSDP gathers the shards)
    if accelerator.is_main_process:
        with atomic_dir(params.adapter_dir) as tmp:
            accelerator.unwrap_model(model).save_pretrained(tmp, state_dict=weights)
            write_json(tmp / TRAINING_INFO, info)
        write_json(params.metrics_file, metrics)
        plots = Path(params.plots_dir)
        for name in ("train_loss", "eval_loss"):
            write_text(
                plots / f"{name}.tsv",
                f"step\t{name}\n" + "".join(f"{step}\t{loss:.6f}\n" for step, loss in state[name]),
            )
        plot(state, plots / "train_loss.png")
        shutil.rmtree(params.checkpoint_dir, ignore_errors=True)
    accelerator.wait_for_everyone()


def run(params: Params) -> dict:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    profile = numerics.current()
    check_device(params, profile, world)
    manifest_path = Path(params.base_dir) / BASE_MANIFEST
    if not manifest_path.is_file():
        raise InputError(params.base_dir, "base model not found: run `nava-instruct base` (or `dvc repro base`) first")
    try:
        return train(params, profile, world, manifest_path)
    except (torch.OutOfMemoryError, MemoryError):
        raise InputError(
            "train",
            f"out of memory at batch_size={params.batch_size}, max_length={params.max_length}: lower them (raise grad_accum to keep the effective batch)",
        ) from None


def train(params: Params, profile: numerics.Profile, world: int, manifest_path: Path) -> dict:
    started = time.perf_counter()
    determinism = make_deterministic(params.seed)
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
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )  # masked by position
    data = {
        "train": encode_file(params.train_file, tokenizer, params.max_length, params.prompt_format),
        "eval": encode_file(
            params.eval_file, tokenizer, params.max_length, params.prompt_format, limit=params.eval_examples
        ),
    }
    for name, encoded in data.items():
        log.info(
            "%s: %d examples, %d prompts cut to max_length=%d, %d dropped (response too long)",
            name,
            len(encoded.examples),
            encoded.truncated,
            params.max_length,
            encoded.dropped,
        )
    plan = Plan(data["train"].examples, params.batch_size, params.grad_accum, accelerator.num_processes, params.seed)
    if plan.steps_per_epoch == 0:
        raise InputError(
            params.train_file,
            f"{len(data['train'].examples)} examples fill no step of {plan.per_step} batches of {params.batch_size}",
        )
    total_steps = params.max_steps or params.epochs * plan.steps_per_epoch

    model = load_model(params, profile, trust_remote_code, accelerator.local_process_index)
    # The fused kernel gave the same bits on real and emulated CPUs where the for-each one did not (docs/numerics.md).
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=params.lr, weight_decay=params.weight_decay, fused=True
    )
    scheduler = get_scheduler(
        SCHEDULERS[params.lr_scheduler], optimizer, num_warmup_steps=params.warmup_steps, num_training_steps=total_steps
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(
        scheduler
    )  # stepped here once per step, not once per process as a prepared one is
    adapter_checkpoints(accelerator, model)

    def eval_loss() -> float:
        return evaluate(model, data["eval"], params.batch_size, accelerator, pad_id)

    inputs = {
        "params": params.model_dump(),
        "numerics": profile.name,
        "base": sha256_file(manifest_path),
        "processes": accelerator.num_processes,
    }
    inputs |= {name: sha256_file(path) for name, path in (("train", params.train_file), ("eval", params.eval_file))}
    fingerprint = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    state = resume(accelerator, Path(params.checkpoint_dir), fingerprint)
    if state is None:
        state = {"fingerprint": fingerprint, "step": 0, "train_loss": [], "eval_loss": [[0, eval_loss()]], "tokens": 0}
        log.info("eval loss before training: %.4f", state["eval_loss"][0][1])
    resumed_from, train_seconds, tokens_this_run = state["step"], 0.0, 0

    model.train()
    bar = tqdm(
        total=total_steps, initial=resumed_from, desc="train", unit="step", disable=not accelerator.is_main_process
    )
    for step in range(resumed_from + 1, total_steps + 1):  # optimizer steps, counted from 1
        tick = time.perf_counter()
        work = plan.step(step - 1, accelerator.process_index)
        loss = train_step(
            model,
            accelerator,
            [[data["train"].examples[i] for i in batch] for batch in work.batches],
            work.supervised,
            pad_id,
        )
        accelerator.clip_grad_norm_(model.parameters(), params.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        train_seconds += time.perf_counter() - tick
        tokens_this_run += work.tokens
        state["step"], state["tokens"] = step, state["tokens"] + work.tokens
        state["train_loss"].append([step, loss])
        bar.set_postfix(loss=f"{loss:.3f}", eval=f"{state['eval_loss'][-1][1]:.3f}")
        bar.update()
        if step < total_steps and params.eval_every and step % params.eval_every == 0:
            state["eval_loss"].append([step, eval_loss()])
        if step < total_steps and params.checkpoint_every and step % params.checkpoint_every == 0:
            save_checkpoint(accelerator, Path(params.checkpoint_dir), state)
    bar.close()
    state["eval_loss"].append([total_steps, eval_loss()])

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    metrics = {
        "eval_loss_before": state["eval_loss"][0][1],
        "eval_loss_after": state["eval_loss"][-1][1],
        "train_loss_last10": sum(loss for _, loss in state["train_loss"][-10:]) / len(state["train_loss"][-10:]),
        "steps": total_steps,
        "epochs": round(total_steps / plan.steps_per_epoch, 3),
        "resumed_from_step": resumed_from,
        "wall_time_s": round(time.perf_counter() - started, 1),
        "train_time_s": round(train_seconds, 1),
        "train_tokens": state["tokens"],
        "train_tokens_per_s": round(tokens_this_run / train_seconds, 1) if train_seconds else None,
        "peak_rss_mb": round(accelerator.gather(torch.tensor([peak_rss], device=accelerator.device)).max().item()),
        **{
            f"{name}_{key}": value
            for name, encoded in data.items()
            for key, value in (
                ("examples", len(encoded.examples)),
                ("truncated", encoded.truncated),
                ("dropped", encoded.dropped),
            )
        },
    }
    if profile.device == "cuda":
        metrics["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    info = {
        "method": params.method,
        "prompt_format": params.prompt_format,
        "numerics": numerics.record(),
        "processes": accelerator.num_processes,
        "distributed": params.distributed if accelerator.num_processes > 1 else None,
        "device": torch.cuda.get_device_name() if profile.device == "cuda" else "cpu",
        "steps": total_steps,
        "base": {"dir": params.base_dir, "manifest_sha256": inputs["base"]},
        "data": {name: {"file": getattr(params, f"{name}_file"), "sha256": inputs[name]} for name in data},
        "determinism": determinism,
        "versions": {module.__name__: module.__version__ for module in (torch, transformers, peft, accelerate)},
    }
    write_outputs(params, accelerator, model, info, metrics, state)
    log.info(
        "eval loss %.4f -> %.4f in %d steps; adapter in %s",
        metrics["eval_loss_before"],
        metrics["eval_loss_after"],
        total_steps,
        params.adapter_dir,
    )
    return metrics
