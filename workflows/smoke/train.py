#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VibeML smoke workflow: trains a tiny character-bigram language model on CPU with Python's
standard library only, so a launch can be checked end to end (progress, logs, checkpoints,
resume, stop, artifact, cost) without a GPU or any package install.

All parameters come from ONE JSON document: the environment variable VIBEML_PARAMS, or the file
named by VIBEML_PARAMS_FILE. Nothing is ever substituted into code. Progress goes to stdout as
`@@VIBEML {json}` lines (VibeML progress protocol v1).

Checkpoints: <checkpoint_dir>/checkpoint-<step>/ written into a temporary folder first and renamed
when complete (a COMPLETE marker is written last). Each records the run's fingerprint (job id,
workflow, model, dataset, and the hyperparameters that shape training): at start the newest
complete checkpoint WITH THIS RUN'S FINGERPRINT is loaded (damaged, incomplete and foreign ones
are skipped with a line saying why), and the `start` event says `resumed_from_step`.
SIGTERM/SIGINT save a checkpoint and exit 143. The final model goes to <output_dir>/model.json.
VibeML gives each job its own folders in VIBEML_CHECKPOINT_DIR and VIBEML_OUTPUT_DIR (on a cloud,
under the durable bucket mounted at ~/vibeml; a leading ~ is expanded).
"""
import base64
import hashlib
import json
import math
import os
import random
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request

PREFIX = "@@VIBEML "
WORKFLOW = "smoke"

BUILTIN_TEXT = """\
It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of
foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of
Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we
had everything before us, we had nothing before us, we were all going direct to Heaven, we were
all going direct the other way.
Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my
purse, and nothing particular to interest me on shore, I thought I would sail about a little and
see the watery part of the world.
It is a truth universally acknowledged, that a single man in possession of a good fortune, must be
in want of a wife.
All happy families are alike; each unhappy family is unhappy in its own way.
In the beginning the Universe was created. This has made a lot of people very angry and been
widely regarded as a bad move.
"""


def emit(event, **fields):
    rec = {"v": 1, "event": event, "ts": round(time.time(), 3)}
    for k, v in fields.items():
        if v is None:
            continue
        if isinstance(v, float) and not math.isfinite(v):
            v = "nan" if v != v else ("inf" if v > 0 else "-inf")  # JSON has no NaN: said as text
        rec[k] = v
    sys.stdout.write(PREFIX + json.dumps(rec, separators=(",", ":"), allow_nan=False) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("[smoke] " + msg + "\n")
    sys.stderr.flush()


class Stop(Exception):
    pass


# ---------------------------------------------------------------- parameters

def load_params():
    text = os.environ.get("VIBEML_PARAMS")
    path = os.environ.get("VIBEML_PARAMS_FILE")
    if not text and path:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    if not text:
        raise ValueError("no parameters: set VIBEML_PARAMS (JSON) or VIBEML_PARAMS_FILE (a path)")
    params = json.loads(text)
    if not isinstance(params, dict):
        raise ValueError("VIBEML_PARAMS must be a JSON object")
    return params


def hp_get(hp, name, default, kind):
    v = hp.get(name, default)
    if v is None:
        v = default
    try:
        return kind(v)
    except (TypeError, ValueError):
        raise ValueError("hyperparameter %r must be %s" % (name, kind.__name__))


# ---------------------------------------------------------------- data

def detect_format(row):
    """Dataset format from a row's columns."""
    if not isinstance(row, dict):
        return "text"
    if "conversations" in row:
        return "sharegpt"
    if "messages" in row:
        return "messages"
    if "instruction" in row and ("output" in row or "response" in row):
        return "alpaca"
    if "prompt" in row and "completion" in row:
        return "prompt_completion"
    if "text" in row:
        return "text"
    raise ValueError("cannot tell the dataset format from columns %s; give dataset_format "
                     "(alpaca, sharegpt, messages, text, prompt_completion)" % sorted(row))


def row_to_text(row, fmt):
    if fmt == "text":
        return row["text"] if isinstance(row, dict) else str(row)
    if fmt == "alpaca":
        out = row.get("output", row.get("response", ""))
        inp = row.get("input") or row.get("context") or ""
        return "### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:\n%s\n" % (
            row["instruction"], inp, out)
    if fmt == "prompt_completion":
        return "%s%s\n" % (row["prompt"], row["completion"])
    turns = row["conversations"] if fmt == "sharegpt" else row["messages"]
    lines = []
    for t in turns:
        role = t.get("from", t.get("role", "user"))
        content = t.get("value", t.get("content", ""))
        lines.append("%s: %s" % (role, content))
    return "\n".join(lines) + "\n"


def load_text(params, hp):
    path = hp.get("dataset_file")
    if not path:
        return BUILTIN_TEXT, "builtin", "text"
    fmt = params.get("dataset_format") or "auto"
    with open(path, "r", encoding="utf-8") as f:
        raw = f.read()
    if path.endswith(".txt"):
        return raw, path, "text"
    if path.endswith(".jsonl"):
        rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
    else:
        rows = json.loads(raw)
        if isinstance(rows, dict):
            rows = rows.get("rows") or rows.get("data") or [rows]
    if not rows:
        raise ValueError("dataset file %s has no rows" % path)
    if fmt == "auto":
        fmt = detect_format(rows[0])
    return "".join(row_to_text(r, fmt) for r in rows), path, fmt


# ---------------------------------------------------------------- checkpoints

def atomic_write(path, data):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def checkpoints(ckpt_dir):
    out = []
    if not os.path.isdir(ckpt_dir):
        return out
    for name in os.listdir(ckpt_dir):
        if name.startswith("checkpoint-"):
            try:
                out.append((int(name[len("checkpoint-"):]), os.path.join(ckpt_dir, name)))
            except ValueError:
                pass
    out.sort(reverse=True)
    return out


# Hyperparameters that change how often things happen, not what is trained: a run resumed with
# other values of these is still the same run.
CADENCE = ("logging_steps", "save_steps", "save_total_limit", "step_delay_s", "fail_at_step",
           "setup_delay_s")


def fingerprint(params, hp):
    shaping = {k: v for k, v in sorted(hp.items()) if k not in CADENCE}
    doc = {"job_id": os.environ.get("VIBEML_JOB_ID") or params.get("job_id") or params.get("job_name"),
           "workflow": WORKFLOW, "model": params.get("model"), "dataset": params.get("dataset"),
           "dataset_format": params.get("dataset_format"), "hyperparameters": shaping}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_latest(ckpt_dir, fp=None):
    """The newest complete checkpoint of this run (fingerprint fp), or None; incomplete, damaged
    and foreign checkpoints are skipped."""
    for step, path in checkpoints(ckpt_dir):
        if not os.path.exists(os.path.join(path, "COMPLETE")):
            log("skipping incomplete checkpoint %s" % path)
            continue
        try:
            with open(os.path.join(path, "state.json"), "r", encoding="utf-8") as f:
                state = json.load(f)
            if state.get("step") != step:
                raise ValueError("step mismatch")
            if fp is not None and state.get("fingerprint") != fp:
                log("skipping checkpoint %s: it belongs to another run (fingerprint %s, this run %s)"
                    % (path, str(state.get("fingerprint"))[:12], fp[:12]))
                continue
            return state, path
        except (OSError, ValueError) as e:
            log("skipping damaged checkpoint %s: %s" % (path, e))
    return None, None


def save_checkpoint(ckpt_dir, state, keep):
    step = state["step"]
    final = os.path.join(ckpt_dir, "checkpoint-%d" % step)
    if os.path.exists(os.path.join(final, "COMPLETE")):
        return final
    os.makedirs(ckpt_dir, exist_ok=True)
    tmp = os.path.join(ckpt_dir, ".tmp-checkpoint-%d-%d" % (step, os.getpid()))
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "state.json"), "w", encoding="utf-8") as f:
        json.dump(state, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    with open(os.path.join(tmp, "COMPLETE"), "w") as f:
        f.write("%d\n" % step)
        f.flush()
        os.fsync(f.fileno())
    if os.path.exists(final):
        shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    try:
        fd = os.open(ckpt_dir, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    except OSError:
        pass
    for _, old in checkpoints(ckpt_dir)[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    emit("checkpoint", step=step, path=final)
    return final


def rng_to_json(st):
    return [st[0], list(st[1]), st[2]]


def rng_from_json(js):
    return (js[0], tuple(js[1]), js[2])


# ---------------------------------------------------------------- model

def softmax_row(row):
    m = max(row)
    ex = [math.exp(x - m) for x in row]
    s = sum(ex)
    return [e / s for e in ex]


def train_step(W, pairs, lr):
    """One SGD step of softmax cross-entropy on (prev, next) character pairs. Returns mean loss."""
    V = len(W)
    grads = {}
    loss = 0.0
    for a, b in pairs:
        p = softmax_row(W[a])
        loss -= math.log(max(p[b], 1e-12))
        g = grads.setdefault(a, [0.0] * V)
        for j in range(V):
            g[j] += p[j]
        g[b] -= 1.0
    n = float(len(pairs))
    for a, g in grads.items():
        row = W[a]
        for j in range(V):
            row[j] -= lr * g[j] / n
    return loss / n


def eval_loss(W, ids):
    total = 0.0
    n = 0
    for i in range(0, len(ids) - 1, max(1, (len(ids) - 1) // 400)):
        p = softmax_row(W[ids[i]])
        total -= math.log(max(p[ids[i + 1]], 1e-12))
        n += 1
    return total / max(n, 1)


def sample(W, vocab, rng, start, length=120):
    idx = vocab.index(start) if start in vocab else 0
    out = [vocab[idx]]
    for _ in range(length):
        p = softmax_row(W[idx])
        r = rng.random()
        acc = 0.0
        for j, pj in enumerate(p):
            acc += pj
            if r <= acc:
                idx = j
                break
        out.append(vocab[idx])
    return "".join(out)


# ---------------------------------------------------------------- hub

def push_to_hub(repo, folder, token, private=True):
    """Uploads the files of folder to a model repository through the Hub's HTTP API
    (HF_ENDPOINT honoured): create the repo (private unless asked; exists is fine), then one
    commit."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    headers = {"Authorization": "Bearer " + token}
    owner, name = repo.split("/", 1)
    body = json.dumps({"type": "model", "name": name, "organization": owner,
                       "private": bool(private)}).encode()
    req = urllib.request.Request(endpoint + "/api/repos/create", data=body, method="POST",
                                 headers=dict(headers, **{"Content-Type": "application/json"}))
    try:
        urllib.request.urlopen(req, timeout=60).read()
    except urllib.error.HTTPError as e:
        if e.code != 409:  # 409: the repository exists already
            raise
    lines = [json.dumps({"key": "header", "value": {
        "summary": "VibeML smoke model", "description": "trained by the VibeML smoke workflow"}})]
    for fname in sorted(os.listdir(folder)):
        with open(os.path.join(folder, fname), "rb") as f:
            content = base64.b64encode(f.read()).decode()
        lines.append(json.dumps({"key": "file", "value": {
            "content": content, "path": fname, "encoding": "base64"}}))
    req = urllib.request.Request(
        "%s/api/models/%s/commit/main" % (endpoint, repo), data=("\n".join(lines) + "\n").encode(),
        method="POST", headers=dict(headers, **{"Content-Type": "application/x-ndjson"}))
    urllib.request.urlopen(req, timeout=120).read()


# ---------------------------------------------------------------- main

def main():
    params = load_params()
    hp = params.get("hyperparameters") or {}
    max_steps = hp_get(hp, "max_steps", 200, int)
    lr = hp_get(hp, "learning_rate", 5.0, float)
    batch = hp_get(hp, "batch_size", 32, int)
    save_steps = max(1, hp_get(hp, "save_steps", 25, int))
    keep = max(1, hp_get(hp, "save_total_limit", 2, int))
    log_steps = max(1, hp_get(hp, "logging_steps", 5, int))
    delay = hp_get(hp, "step_delay_s", 0.0, float)
    seed = hp_get(hp, "seed", 1234, int)
    fail_at = hp_get(hp, "fail_at_step", 0, int)
    nan_at = hp_get(hp, "nan_at_step", 0, int)
    diverge_at = hp_get(hp, "diverge_at_step", 0, int)
    stall_at = hp_get(hp, "stall_at_step", 0, int)
    setup_delay = hp_get(hp, "setup_delay_s", 0.0, float)
    ckpt_dir = os.path.expanduser(os.environ.get("VIBEML_CHECKPOINT_DIR") or params.get("checkpoint_dir")
                                  or "checkpoints")
    out_dir = os.path.expanduser(os.environ.get("VIBEML_OUTPUT_DIR") or params.get("output_dir")
                                 or os.path.join(ckpt_dir, "final"))
    fp = fingerprint(params, hp)

    stop = {"sig": None}

    def on_signal(signum, frame):
        stop["sig"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    emit("phase", phase="tokenize", status="start")
    text, source, fmt = load_text(params, hp)
    vocab = sorted(set(text))
    ids = [vocab.index(c) for c in text]
    V = len(vocab)
    emit("phase", phase="tokenize", status="end")
    log("data: %s (%s), %d characters, vocabulary %d" % (source, fmt, len(text), V))

    emit("phase", phase="load_model", status="start")
    if setup_delay > 0:
        # a slow download or load before the first step: nothing trained yet, so a stop saves
        # nothing (there is no state worth a checkpoint)
        log("setup_delay_s=%g: loading" % setup_delay)
        until = time.time() + setup_delay
        while time.time() < until and not stop["sig"]:
            time.sleep(0.1)
        if stop["sig"]:
            emit("end", status="stopped", step=0, total_steps=max_steps, signal=int(stop["sig"]))
            log("stopped by signal %d before the first step; nothing to save" % stop["sig"])
            return 143
    state, path = load_latest(ckpt_dir, fp)
    if state and state.get("vocab") == vocab:
        W = state["weights"]
        step = state["step"]
        tokens = state.get("tokens", 0)
        rng = random.Random()
        rng.setstate(rng_from_json(state["rng"]))
        losses = state.get("losses", [])
        log("resuming from %s (step %d)" % (path, step))
    else:
        if state:
            log("checkpoint %s is for other data; starting fresh" % path)
        rng = random.Random(seed)
        W = [[rng.gauss(0.0, 0.01) for _ in range(V)] for _ in range(V)]
        step = 0
        tokens = 0
        losses = []
    emit("phase", phase="load_model", status="end")

    def snapshot():
        return {"step": step, "weights": W, "vocab": vocab, "rng": rng_to_json(rng.getstate()),
                "tokens": tokens, "losses": losses[-50:], "total_steps": max_steps,
                "workflow": WORKFLOW, "model": params.get("model"), "fingerprint": fp}

    emit("start", workflow=WORKFLOW, model=params.get("model"), total_steps=max_steps,
         num_epochs=None, world_size=1, per_device_batch=batch, grad_accum=1,
         resumed_from_step=step, resumed_from=path if step else None, fingerprint=fp[:16],
         dataset=params.get("dataset"), dataset_format=fmt)
    emit("phase", phase="train", status="start")
    t0 = time.time()
    last_t, last_tokens = t0, tokens
    ema = None
    loss = None
    while step < max_steps:
        if stop["sig"]:
            save_checkpoint(ckpt_dir, snapshot(), keep)
            emit("end", status="stopped", step=step, total_steps=max_steps,
                 signal=int(stop["sig"]), train_runtime_s=round(time.time() - t0, 3))
            log("stopped by signal %d at step %d; checkpoint saved" % (stop["sig"], step))
            return 143
        ts = time.time()
        if fail_at and step + 1 == fail_at:
            raise RuntimeError("fail_at_step=%d reached (a deliberate failure)" % fail_at)
        if stall_at and step + 1 == stall_at:
            # a hung step (a stuck collective, a dead data loader) that still honours SIGTERM
            log("stall_at_step=%d: hanging" % stall_at)
            until = time.time() + 3600
            while time.time() < until and not stop["sig"]:
                time.sleep(0.1)
            continue
        pairs = []
        for _ in range(batch):
            i = rng.randrange(0, len(ids) - 1)
            pairs.append((ids[i], ids[i + 1]))
        loss = train_step(W, pairs, lr)
        if diverge_at and step + 1 >= diverge_at:
            loss *= 10.0 ** (1 + (step + 1 - diverge_at) // log_steps)
        if nan_at and step + 1 >= nan_at:
            loss = float("nan")
        losses.append(loss)
        step += 1
        tokens += batch
        if delay > 0:
            time.sleep(delay)
        dt = time.time() - ts
        ema = dt if ema is None else 0.9 * ema + 0.1 * dt
        if step % log_steps == 0 or step == max_steps:
            now = time.time()
            tps = (tokens - last_tokens) / (now - last_t) if now > last_t else None
            last_t, last_tokens = now, tokens
            emit("step", step=step, total_steps=max_steps, progress=round(step / max_steps, 4),
                 epoch=round(tokens / max(1, len(ids) - 1), 4), loss=round(loss, 5) if math.isfinite(loss) else loss, lr=lr,
                 grad_norm=None, tokens=tokens, tokens_per_s=round(tps, 1) if tps else None,
                 step_time_s=round(ema, 4), elapsed_s=round(now - t0, 3),
                 eta_s=round(ema * (max_steps - step), 2), gpu_mem_gb=None)
        if step % save_steps == 0 and step < max_steps:
            save_checkpoint(ckpt_dir, snapshot(), keep)
    emit("phase", phase="train", status="end")
    runtime = time.time() - t0
    final_ckpt = save_checkpoint(ckpt_dir, snapshot(), keep)

    emit("phase", phase="save", status="start")
    ev = eval_loss(W, ids)
    emit("eval", step=step, eval_loss=round(ev, 5))
    os.makedirs(out_dir, exist_ok=True)
    model = {"format": "vibeml-char-bigram-v1", "vocab": vocab, "weights": W,
             "trained_steps": step, "eval_loss": ev, "base_model_label": params.get("model"),
             "dataset": params.get("dataset"), "sample": sample(W, vocab, random.Random(seed), "T")}
    atomic_write(os.path.join(out_dir, "model.json"), json.dumps(model, separators=(",", ":")))
    atomic_write(os.path.join(out_dir, "README.md"),
                 "# VibeML smoke model\n\nCharacter bigram trained for %d steps; eval loss %.4f.\n\n"
                 "Sample:\n\n    %s\n" % (step, ev, model["sample"].replace("\n", " ")))
    emit("phase", phase="save", status="end")
    emit("artifact", path=out_dir, files=["model.json", "README.md"], checkpoint=final_ckpt)

    repo = params.get("push_to_hub")
    if repo:
        token = os.environ.get("HF_TOKEN")
        if not token:
            raise RuntimeError("push_to_hub=%s needs the HF_TOKEN secret" % repo)
        emit("phase", phase="upload", status="start")
        push_to_hub(repo, out_dir, token, private=params.get("hub_private") is not False)
        emit("phase", phase="upload", status="end", repo=repo)

    tail = losses[-50:]
    mean = sum(tail) / len(tail) if tail else None
    emit("end", status="completed", step=step, total_steps=max_steps,
         train_runtime_s=round(runtime, 3), train_loss=round(mean, 5) if mean else None,
         final_loss=round(loss, 5) if loss is not None else None, output_dir=out_dir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # report, then fail with a non-zero status
        emit("error", exc_type=type(e).__name__, message=str(e)[:2000])
        raise SystemExit(1)
