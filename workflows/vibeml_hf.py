# SPDX-License-Identifier: MIT
"""Shared pieces of VibeML's Hugging Face training scripts (unsloth, lora, full).

* parameters: ONE JSON document from VIBEML_PARAMS (or the file in VIBEML_PARAMS_FILE); never
  substituted into code;
* progress: `@@VIBEML {json}` lines on stdout from global rank 0 (protocol v1, training.md §3b);
* datasets: alpaca, sharegpt, messages, prompt/completion and plain text, detected from the
  columns or given (training.md §8), turned into a `text` or `messages` column;
* checkpoints: the newest COMPLETE checkpoint (marked by VibeML after the Trainer saved it) is
  resumed; SIGTERM asks every rank to save and stop at the next step boundary;
* the Hub: push when asked (HF_ENDPOINT and HF_TOKEN are read by huggingface_hub itself).
"""
import json
import math
import os
import re
import signal
import sys
import time

try:
    from transformers import TrainerCallback
except ImportError:  # lets the logic be checked without transformers
    class TrainerCallback(object):
        pass

PREFIX = "@@VIBEML "
COMPLETE = "VIBEML_COMPLETE"


def is_rank0():
    return int(os.environ.get("RANK", "0")) == 0


def emit(event, **fields):
    if not is_rank0():
        return
    rec = {"v": 1, "event": event, "ts": round(time.time(), 3)}
    for k, v in fields.items():
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            continue
        rec[k] = v
    sys.stdout.write(PREFIX + json.dumps(rec, separators=(",", ":"), allow_nan=False,
                                         default=str) + "\n")
    sys.stdout.flush()


def log(msg):
    if is_rank0():
        sys.stderr.write("[vibeml] " + msg + "\n")
        sys.stderr.flush()


# ---------------------------------------------------------------- parameters

class Params(object):
    """The job's parameters; hp(name, default) reads a hyperparameter."""

    def __init__(self, doc):
        self.doc = doc
        self.hps = doc.get("hyperparameters") or {}
        self.model = doc["model"]
        self.dataset = doc["dataset"]
        self.workflow = doc.get("workflow")
        self.dataset_format = doc.get("dataset_format") or "auto"
        self.push_to_hub = doc.get("push_to_hub")
        ckpt = os.environ.get("VIBEML_CHECKPOINT_DIR") or doc.get("checkpoint_dir") or "checkpoints"
        self.checkpoint_dir = ckpt
        self.output_dir = (os.environ.get("VIBEML_OUTPUT_DIR") or doc.get("output_dir")
                           or os.path.join(ckpt, "final"))

    def hp(self, name, default=None):
        v = self.hps.get(name)
        return default if v is None else v


def load_params():
    text = os.environ.get("VIBEML_PARAMS")
    path = os.environ.get("VIBEML_PARAMS_FILE")
    if not text and path:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    if not text:
        raise ValueError("no parameters: set VIBEML_PARAMS (JSON) or VIBEML_PARAMS_FILE (a path)")
    doc = json.loads(text)
    if not isinstance(doc, dict) or "model" not in doc or "dataset" not in doc:
        raise ValueError("VIBEML_PARAMS must be a JSON object with model and dataset")
    return Params(doc)


def hf_token():
    return os.environ.get("HF_TOKEN") or None


# ---------------------------------------------------------------- datasets

ALPACA_PROMPT = ("Below is an instruction that describes a task, paired with an input that "
                 "provides further context. Write a response that appropriately completes the "
                 "request.\n\n### Instruction:\n{}\n\n### Input:\n{}\n\n### Response:\n{}")


def detect_format(columns, first_row=None):
    cols = set(columns)
    if "conversations" in cols:
        return "sharegpt"
    if "messages" in cols:
        return "messages"
    if "chosen" in cols and "rejected" in cols:
        raise ValueError("this is a preference dataset (prompt/chosen/rejected); supervised "
                         "fine-tuning needs instruction, conversation or text data")
    if "instruction" in cols and ("output" in cols or "response" in cols):
        return "alpaca"
    if "prompt" in cols and "completion" in cols:
        return "prompt_completion"
    if "text" in cols:
        return "text"
    raise ValueError("cannot tell the dataset format from its columns %s; set dataset_format to "
                     "alpaca, sharegpt, messages, prompt_completion or text" % sorted(cols))


_ROLE = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
         "model": "assistant", "system": "system", "bot": "assistant"}


def sharegpt_to_messages(turns):
    out = []
    for t in turns or []:
        role = _ROLE.get(str(t.get("from", t.get("role", "user"))).lower(), "user")
        out.append({"role": role, "content": t.get("value", t.get("content", ""))})
    return out


def load_and_format(params, eos_token=""):
    """Loads the dataset and returns (dataset, kind, format): kind "text" (a text column) or
    "messages" (a conversational messages column)."""
    from datasets import load_dataset
    split = params.hp("dataset_split", "train")
    config = params.hp("dataset_config")
    emit("phase", phase="download", status="start", what="dataset")
    ds = load_dataset(params.dataset, config, split=split, token=hf_token())
    emit("phase", phase="download", status="end", what="dataset")
    n = int(params.hp("max_samples", 0) or 0)
    if n > 0 and n < len(ds):
        ds = ds.select(range(n))
    fmt = params.dataset_format
    if fmt in (None, "", "auto"):
        fmt = detect_format(ds.column_names)
    log("dataset %s: %d rows, format %s" % (params.dataset, len(ds), fmt))
    cols = ds.column_names
    if fmt == "alpaca":
        def fn(row):
            out = row.get("output", row.get("response", ""))
            inp = row.get("input") or row.get("context") or ""
            return {"text": ALPACA_PROMPT.format(row["instruction"], inp, out) + eos_token}
        return ds.map(fn, remove_columns=cols), "text", fmt
    if fmt == "text":
        return ds.remove_columns([c for c in cols if c != "text"]), "text", fmt
    if fmt == "prompt_completion":
        def fn(row):
            p, c = row["prompt"], row["completion"]
            if isinstance(p, list):  # conversational prompt/completion
                return {"messages": list(p) + list(c)}
            return {"text": "%s%s%s" % (p, c, eos_token)}
        ds = ds.map(fn, remove_columns=cols)
        return ds, ("messages" if "messages" in ds.column_names else "text"), fmt
    if fmt == "sharegpt":
        ds = ds.map(lambda row: {"messages": sharegpt_to_messages(row["conversations"])},
                    remove_columns=cols)
        return ds, "messages", fmt
    if fmt == "messages":
        return ds.remove_columns([c for c in cols if c != "messages"]), "messages", fmt
    raise ValueError("unknown dataset_format %r" % fmt)


# ---------------------------------------------------------------- checkpoints

_CKPT = re.compile(r"^checkpoint-(\d+)$")


def latest_checkpoint(folder):
    """The newest complete checkpoint folder, or None (first run). A folder counts as complete
    when VibeML marked it (VIBEML_COMPLETE) or, for folders written before the marker existed,
    when the Trainer's trainer_state.json is there (training.md §7)."""
    if not os.path.isdir(folder):
        return None
    found = []
    for name in os.listdir(folder):
        m = _CKPT.match(name)
        if m and os.path.isdir(os.path.join(folder, name)):
            found.append((int(m.group(1)), os.path.join(folder, name)))
    for step, path in sorted(found, reverse=True):
        if os.path.exists(os.path.join(path, COMPLETE)):
            return path
        if os.path.exists(os.path.join(path, "trainer_state.json")) and not any(
                os.path.exists(os.path.join(p, COMPLETE)) for _, p in found):
            return path
        log("skipping incomplete checkpoint %s" % path)
    return None


_stop = {"sig": None}


def install_signal_handlers():
    def on_signal(signum, frame):
        _stop["sig"] = signum
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def stop_requested():
    """True on every rank once any rank got SIGTERM (ranks must stop at the same step)."""
    flag = 1 if _stop["sig"] else 0
    try:
        import torch
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            dev = "cuda" if torch.cuda.is_available() else "cpu"
            t = torch.tensor([flag], device=dev)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            flag = int(t.item())
    except Exception:
        pass
    return bool(flag)


# ---------------------------------------------------------------- progress

def _num(x):
    try:
        x = float(x)
        return x if math.isfinite(x) else None
    except (TypeError, ValueError):
        return None


def _gpu_mem_gb():
    try:
        import torch
        if torch.cuda.is_available():
            return round(torch.cuda.max_memory_reserved() / 2 ** 30, 2)
    except Exception:
        pass
    return None


class VibeMLProgress(TrainerCallback):
    """@@VIBEML events from the Trainer (rank 0), checkpoint markers, and stop on SIGTERM."""

    def __init__(self, workflow, model_id):
        self.workflow, self.model_id = workflow, model_id
        self.t0 = self.first_step = None
        self.last_tokens = self.last_t = None
        self.ema_step_s = None
        self.last_step_t = None
        self.stopped = False

    def on_train_begin(self, args, state, control, **kw):
        self.t0 = self.last_step_t = time.time()
        self.first_step = state.global_step
        if state.is_world_process_zero:
            emit("start", workflow=self.workflow, model=self.model_id, total_steps=state.max_steps,
                 num_epochs=_num(args.num_train_epochs), world_size=args.world_size,
                 per_device_batch=args.per_device_train_batch_size,
                 grad_accum=args.gradient_accumulation_steps,
                 resumed_from_step=state.global_step or None)

    def on_step_end(self, args, state, control, **kw):
        now = time.time()
        dt = now - self.last_step_t
        self.last_step_t = now
        if state.global_step - self.first_step > 2:  # skip compile/warm-up steps
            self.ema_step_s = dt if self.ema_step_s is None else 0.9 * self.ema_step_s + 0.1 * dt
        if stop_requested():
            self.stopped = True
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_log(self, args, state, control, logs=None, **kw):
        if not state.is_world_process_zero or not logs:
            return
        now = time.time()
        logs = dict(logs)
        if any(k.startswith("eval_") for k in logs):
            emit("eval", step=state.global_step, **{k: _num(v) for k, v in logs.items()})
            return
        if "train_runtime" in logs:
            return  # the script emits "end" itself (completed or stopped)
        tokens = _num(logs.get("num_tokens")) or _num(getattr(state, "num_input_tokens_seen", None))
        tps = None
        if tokens is not None and self.last_tokens is not None and now > self.last_t:
            tps = (tokens - self.last_tokens) / (now - self.last_t)
        if tokens is not None:
            self.last_tokens, self.last_t = tokens, now
        done = state.global_step - self.first_step
        step_s = self.ema_step_s or ((now - self.t0) / done if done else None)
        eta = step_s * (state.max_steps - state.global_step) if step_s else None
        emit("step", step=state.global_step, total_steps=state.max_steps,
             progress=round(state.global_step / max(state.max_steps, 1), 4),
             epoch=_num(state.epoch), loss=_num(logs.get("loss")),
             lr=_num(logs.get("learning_rate")), grad_norm=_num(logs.get("grad_norm")),
             tokens=tokens, tokens_per_s=round(tps, 1) if tps else None,
             step_time_s=round(step_s, 3) if step_s else None,
             elapsed_s=round(now - self.t0, 1), eta_s=round(eta, 1) if eta is not None else None,
             gpu_mem_gb=_gpu_mem_gb())

    def on_save(self, args, state, control, **kw):
        path = os.path.join(args.output_dir, "checkpoint-%d" % state.global_step)
        if state.is_world_process_zero and os.path.isdir(path):
            with open(os.path.join(path, COMPLETE), "w") as f:
                f.write("%d\n" % state.global_step)
                f.flush()
                os.fsync(f.fileno())
            emit("checkpoint", step=state.global_step, path=path)


def training_args_common(params, world_size_hint=1):
    """TrainingArguments/SFTConfig keyword arguments shared by the three workflows."""
    hp = params.hp
    kw = dict(
        output_dir=params.checkpoint_dir,
        per_device_train_batch_size=int(hp("per_device_batch_size", 2)),
        gradient_accumulation_steps=int(hp("gradient_accumulation_steps", 4)),
        learning_rate=float(hp("learning_rate", 2e-4)),
        lr_scheduler_type=hp("lr_scheduler", "linear"),
        warmup_ratio=float(hp("warmup_ratio", 0.03)),
        weight_decay=float(hp("weight_decay", 0.01)),
        num_train_epochs=float(hp("epochs", 1)),
        max_steps=int(hp("max_steps", -1)),
        logging_steps=int(hp("logging_steps", 5)),
        save_strategy="steps",
        save_steps=int(hp("save_steps", 100)),
        save_total_limit=int(hp("save_total_limit", 2)),
        seed=int(hp("seed", 3407)),
        optim=hp("optim", "adamw_torch"),
        report_to="none",
        disable_tqdm=True,
        packing=bool(hp("packing", False)),
        gradient_checkpointing=True,
    )
    return kw


def finish(trainer, progress, params, started):
    """After trainer.train(): the stopped/completed end event. Returns the exit status."""
    if progress.stopped:
        emit("end", status="stopped", step=trainer.state.global_step,
             total_steps=trainer.state.max_steps, train_runtime_s=round(time.time() - started, 1))
        log("stopped by signal; checkpoint saved at step %d" % trainer.state.global_step)
        return 143
    return None


def run_main(main):
    """Runs main() and turns an exception into an @@VIBEML error event and exit status 1."""
    try:
        code = main()
    except SystemExit:
        raise
    except BaseException as e:
        emit("error", exc_type=type(e).__name__, message=str(e)[:2000])
        raise
    sys.exit(code or 0)
