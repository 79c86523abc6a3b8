# SPDX-License-Identifier: MIT
"""Shared pieces of VibeML's Hugging Face training scripts (unsloth, lora, full).

* parameters: ONE JSON document from VIBEML_PARAMS (or the file in VIBEML_PARAMS_FILE); never
  substituted into code;
* progress: `@@VIBEML {json}` lines on stdout from global rank 0 (protocol v1, workflows/README.md);
* datasets: alpaca, sharegpt, messages, prompt/completion and plain text, detected from the
  columns or given, turned into a `text` or `messages` column, or kept as
  `prompt`/`completion` so TRL trains on the completion only; a small eval split is held out;
* checkpoints: into VIBEML_CHECKPOINT_DIR (the job's own prefix of its bucket); each records the
  run's fingerprint (job id, workflow, model, data, the hyperparameters that shape training) in
  vibeml_fingerprint.json, written last, so its presence marks the checkpoint complete; a run
  resumes only from the newest complete checkpoint with its own fingerprint; SIGTERM asks every
  rank to save and stop at the next step boundary;
* outputs: the final model/adapter goes to VIBEML_OUTPUT_DIR; an `artifact` event lists it; with
  push_to_hub set it is pushed (private unless hub_private is false), and a failed push exits
  non-zero (the checkpoints stay).
"""
import hashlib
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
FINGERPRINT = "vibeml_fingerprint.json"
# Hyperparameters that change how often things happen, not what is trained: a run resumed with
# other values of these is still the same run.
CADENCE = ("logging_steps", "save_steps", "save_total_limit")

# ChatML, for base models that ship no chat template (their conversational data would fail in
# apply_chat_template otherwise).
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}")


def is_rank0():
    return int(os.environ.get("RANK", "0")) == 0


def emit(event, _keep_null=(), **fields):
    if not is_rank0():
        return
    rec = {"v": 1, "event": event, "ts": round(time.time(), 3)}
    for k, v in fields.items():
        if v is None and k not in _keep_null:
            continue
        if isinstance(v, float) and not math.isfinite(v):
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
        self.push_to_hub = doc.get("push_to_hub") or None
        self.hub_private = doc.get("hub_private") is not False
        self.job_id = (os.environ.get("VIBEML_JOB_ID") or doc.get("job_id") or doc.get("job_name")
                       or "")
        # the backend's envs name the job's own prefix of its bucket; older callers: the document
        ckpt = os.path.expanduser(os.environ.get("VIBEML_CHECKPOINT_DIR") or doc.get("checkpoint_dir")
                                  or "checkpoints")
        self.checkpoint_dir = ckpt
        self.output_dir = os.path.expanduser(os.environ.get("VIBEML_OUTPUT_DIR")
                                             or doc.get("output_dir") or os.path.join(ckpt, "final"))
        self.fingerprint = fingerprint(self)

    def hp(self, name, default=None):
        v = self.hps.get(name)
        return default if v is None else v


def fingerprint(params):
    """sha256 of the canonical JSON of what makes this run this run."""
    shaping = {k: v for k, v in sorted(params.hps.items()) if k not in CADENCE}
    doc = {"job_id": params.job_id, "workflow": params.workflow, "model": params.model,
           "dataset": params.dataset, "dataset_format": params.dataset_format,
           "hyperparameters": shaping}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    """Loads the dataset and returns (train, eval or None, kind, format): kind "text" (a text
    column), "messages" (a conversational messages column) or "prompt_completion" (prompt and
    completion columns, kept so TRL computes the loss on the completion only)."""
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
        ds, kind = ds.map(fn, remove_columns=cols), "text"
    elif fmt == "text":
        ds, kind = ds.remove_columns([c for c in cols if c != "text"]), "text"
    elif fmt == "prompt_completion":
        ds = ds.remove_columns([c for c in cols if c not in ("prompt", "completion")])
        kind = "prompt_completion"
    elif fmt == "sharegpt":
        ds = ds.map(lambda row: {"messages": sharegpt_to_messages(row["conversations"])},
                    remove_columns=cols)
        kind = "messages"
    elif fmt == "messages":
        ds, kind = ds.remove_columns([c for c in cols if c != "messages"]), "messages"
    else:
        raise ValueError("unknown dataset_format %r" % fmt)
    train, held = split_eval(ds, params)
    return train, held, kind, fmt


def split_eval(ds, params):
    """Holds out eval_fraction of the rows (at most eval_max_rows, at least one) to measure eval
    loss; none when eval_fraction is 0 or the dataset is too small to spare a row."""
    frac = float(params.hp("eval_fraction", 0.02) or 0)
    cap = int(params.hp("eval_max_rows", 500) or 500)
    n = min(int(len(ds) * frac), cap)
    if frac > 0 and n < 1 and len(ds) >= 20:
        n = 1
    if n < 1 or len(ds) - n < 1:
        return ds, None
    parts = ds.train_test_split(test_size=n, seed=int(params.hp("seed", 3407)), shuffle=True)
    log("held out %d rows for evaluation" % n)
    return parts["train"], parts["test"]


def is_conversational(ds, kind):
    if kind == "messages":
        return True
    if kind == "prompt_completion" and len(ds) > 0:
        return isinstance(ds[0]["prompt"], list)
    return False


def ensure_chat_template(tok, params, conversational):
    """Conversational data needs a chat template: the model's own (chat_template "auto" or
    "model"), or ChatML for a base model without one ("auto") or when asked ("chatml")."""
    if not conversational:
        return tok
    want = params.hp("chat_template", "auto")
    has = bool(getattr(tok, "chat_template", None))
    if want == "chatml" or (want == "auto" and not has):
        if not has:
            log("the model has no chat template: using ChatML for the conversations")
        tok.chat_template = CHATML_TEMPLATE
    elif not has:
        raise ValueError("the model %s has no chat template and chat_template is 'model'; set "
                         "chat_template to auto or chatml" % params.model)
    return tok


# ---------------------------------------------------------------- checkpoints

_CKPT = re.compile(r"^checkpoint-(\d+)$")


def latest_checkpoint(folder, fp):
    """(path, step) of the newest complete checkpoint of this run (fingerprint fp), or (None, 0).
    Complete: the Trainer wrote trainer_state.json and VibeML then wrote vibeml_fingerprint.json
    (on_save, after the Trainer's last write). A folder without them was cut off mid-save; one with
    another fingerprint belongs to another run: both are skipped, with the reason logged."""
    if not os.path.isdir(folder):
        return None, 0
    found = []
    for name in os.listdir(folder):
        m = _CKPT.match(name)
        if m and os.path.isdir(os.path.join(folder, name)):
            found.append((int(m.group(1)), os.path.join(folder, name)))
    for step, path in sorted(found, reverse=True):
        marker = os.path.join(path, FINGERPRINT)
        if not os.path.exists(marker) or not os.path.exists(os.path.join(path, "trainer_state.json")):
            log("skipping checkpoint %s: incomplete (the save was cut off)" % path)
            continue
        try:
            with open(marker, "r", encoding="utf-8") as f:
                got = json.load(f).get("fingerprint")
        except (OSError, ValueError, AttributeError):
            log("skipping checkpoint %s: unreadable %s" % (path, FINGERPRINT))
            continue
        if got != fp:
            log("skipping checkpoint %s: it belongs to another run (fingerprint %s, this run %s)"
                % (path, str(got)[:12], fp[:12]))
            continue
        return path, step
    return None, 0


def write_fingerprint(path, params, step):
    """Writes vibeml_fingerprint.json into a checkpoint folder, atomically and durably."""
    doc = {"fingerprint": params.fingerprint, "job_id": params.job_id, "workflow": params.workflow,
           "model": params.model, "step": step, "ts": round(time.time(), 3)}
    tmp = os.path.join(path, "." + FINGERPRINT + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(path, FINGERPRINT))


def barrier():
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            dist.barrier()
    except Exception:
        pass


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

    def __init__(self, params, resumed_from_step=0):
        self.params = params
        self.workflow, self.model_id = params.workflow, params.model
        self.resumed_from_step = resumed_from_step
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
                 resumed_from_step=self.resumed_from_step or 0,
                 fingerprint=self.params.fingerprint[:16])

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
            emit("eval", step=state.global_step, total_steps=state.max_steps,
                 eval_loss=_num(logs.get("eval_loss")),
                 **{k: _num(v) for k, v in logs.items() if k != "eval_loss"})
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
        # on_save runs after the Trainer's _save_checkpoint wrote every file (trainer_state.json
        # last); every rank waits here so shards written by other ranks are done too, then the
        # main process writes the fingerprint: its presence marks the checkpoint complete
        path = os.path.join(args.output_dir, "checkpoint-%d" % state.global_step)
        barrier()
        if state.is_world_process_zero and os.path.isdir(path):
            write_fingerprint(path, self.params, state.global_step)
            emit("checkpoint", step=state.global_step, path=path)
        barrier()


def world_size():
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def total_steps(params, n_train):
    """Optimizer steps the run will take (max_steps, or epochs over the training rows)."""
    hp = params.hp
    if int(hp("max_steps", -1)) > 0:
        return int(hp("max_steps", -1))
    per_step = (int(hp("per_device_batch_size", 2)) * int(hp("gradient_accumulation_steps", 4))
                * world_size())
    return max(1, int(math.ceil(n_train / float(per_step) * float(hp("epochs", 1)))))


def training_args_common(params, n_train, has_eval):
    """TrainingArguments/SFTConfig keyword arguments shared by the three workflows. Only names
    that exist in the pinned transformers and TRL (tests/fixtures/upstream_api; workflows/UPSTREAM.md):
    the warm-up is given in steps (warmup_ratio is deprecated for removal in transformers 5)."""
    hp = params.hp
    steps = total_steps(params, n_train)
    save_steps = int(hp("save_steps", 100))
    kw = dict(
        output_dir=params.checkpoint_dir,
        per_device_train_batch_size=int(hp("per_device_batch_size", 2)),
        per_device_eval_batch_size=int(hp("per_device_batch_size", 2)),
        gradient_accumulation_steps=int(hp("gradient_accumulation_steps", 4)),
        learning_rate=float(hp("learning_rate", 2e-4)),
        lr_scheduler_type=hp("lr_scheduler", "linear"),
        warmup_steps=int(math.ceil(float(hp("warmup_ratio", 0.03)) * steps)),
        weight_decay=float(hp("weight_decay", 0.01)),
        num_train_epochs=float(hp("epochs", 1)),
        max_steps=int(hp("max_steps", -1)),
        logging_steps=int(hp("logging_steps", 5)),
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=int(hp("save_total_limit", 2)),
        eval_strategy="steps" if has_eval else "no",
        seed=int(hp("seed", 3407)),
        optim=hp("optim", "adamw_torch"),
        report_to="none",
        disable_tqdm=True,
        packing=bool(hp("packing", False)),
        gradient_checkpointing=True,
    )
    if has_eval:
        # at each checkpoint, at most about ten times a run (the planner prices the same)
        kw["eval_steps"] = max(save_steps, int(math.ceil(steps / 10.0)))
    return kw


def sft_data_kwargs(params, kind):
    """How SFTConfig reads the data: a text column, or prompt/completion with the loss on the
    completion only (unless completion_only_loss is false)."""
    if kind == "text":
        return {"dataset_text_field": "text"}
    if kind == "prompt_completion":
        return {"completion_only_loss": bool(params.hp("completion_only_loss", True))}
    return {}


def load_tokenizer(params):
    """The model's tokenizer (the TRL workflows let the trainer load the model itself), with the
    end-of-sequence token as padding where the model has none."""
    from transformers import AutoTokenizer
    emit("phase", phase="load_model", status="start")
    tok = AutoTokenizer.from_pretrained(params.model, token=hf_token())
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    emit("phase", phase="load_model", status="end")
    return tok


def prepare_data(params, tok):
    """The tokenize phase of the TRL workflows: the dataset in a format SFTTrainer takes, the
    held-out rows, and the tokenizer with a chat template when the data is conversational.
    Returns (tok, ds, held, kind)."""
    emit("phase", phase="tokenize", status="start")
    ds, held, kind, fmt = load_and_format(params, eos_token=tok.eos_token or "")
    tok = ensure_chat_template(tok, params, is_conversational(ds, kind))
    emit("phase", phase="tokenize", status="end", dataset_format=fmt, rows=len(ds),
         eval_rows=len(held) if held is not None else 0)
    return tok, ds, held, kind


def resume_point(params):
    """The checkpoint to resume from (None for a fresh start) and the progress callback that
    counts from its step."""
    resume, step = latest_checkpoint(params.checkpoint_dir, params.fingerprint)
    if resume:
        log("resuming from %s (step %d)" % (resume, step))
    return resume, VibeMLProgress(params, step)


def run_training(trainer, resume):
    """The train phase: trainer.train() from the resume checkpoint. Returns its result."""
    emit("phase", phase="train", status="start")
    result = trainer.train(resume_from_checkpoint=resume)
    emit("phase", phase="train", status="end")
    return result


def save_sharded(trainer, tok, params):
    """The save phase of the TRL workflows: every rank takes part in gathering the weights from
    the ZeRO-3/FSDP shards; the first one writes the tokenizer beside them."""
    emit("phase", phase="save", status="start")
    trainer.save_model(params.output_dir)
    if trainer.is_world_process_zero():
        tok.save_pretrained(params.output_dir)
    emit("phase", phase="save", status="end")


def end_event(trainer, result, params, code):
    """The completed (code 0) or failed end event after the outputs are written. Returns code."""
    emit("end", status="completed" if code == 0 else "failed", step=trainer.state.global_step,
         total_steps=trainer.state.max_steps,
         train_runtime_s=_num(result.metrics.get("train_runtime")),
         train_loss=_num(result.metrics.get("train_loss")), output_dir=params.output_dir)
    return code


def final_eval(trainer, has_eval):
    """One last evaluation after training (the eval event comes from on_log)."""
    if has_eval:
        trainer.evaluate()


def list_files(folder):
    out = []
    for root, _, names in os.walk(folder):
        for n in names:
            out.append(os.path.relpath(os.path.join(root, n), folder))
    return sorted(out)


def push_folder(params, folder, message):
    """Uploads folder to params.push_to_hub (private unless hub_private is false). Returns True,
    or False after an error event (the caller exits non-zero; the checkpoints stay)."""
    emit("phase", phase="upload", status="start", repo=params.push_to_hub)
    try:
        from huggingface_hub import HfApi
        api = HfApi(token=hf_token())
        api.create_repo(params.push_to_hub, private=params.hub_private, exist_ok=True)
        api.upload_folder(repo_id=params.push_to_hub, folder_path=folder, commit_message=message)
    except Exception as e:
        emit("error", exc_type=type(e).__name__, phase="upload",
             message=("push to %s failed: %s; the checkpoints and %s stay where they are"
                      % (params.push_to_hub, str(e)[:1500], folder)))
        log("push to %s failed: %s" % (params.push_to_hub, e))
        return False
    emit("phase", phase="upload", status="end", repo=params.push_to_hub)
    return True


def publish(params, kind, message):
    """The artifact event for the output folder, then the push when asked. Returns the exit
    status: 0, or 1 when the push failed."""
    emit("artifact", _keep_null=("push_to_hub",), path=params.output_dir,
         files=list_files(params.output_dir), push_to_hub=params.push_to_hub, kind=kind)
    if params.push_to_hub and not push_folder(params, params.output_dir, message):
        return 1
    return 0


def finish(trainer, progress, params, started):
    """After trainer.train(): the stopped end event and exit status 143 when a signal stopped the
    run, else None (the script goes on to save; end_event() reports completion)."""
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
