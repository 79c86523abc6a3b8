"""Unit tests of workflows/vibeml_hf.py and the HF training scripts' start-up (stdlib only)."""
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import types
import unittest
from contextlib import redirect_stdout

WF = os.environ["VML_WORKFLOWS"]
sys.path.insert(0, WF)
import vibeml_hf as vh  # noqa: E402


def events(text):
    return [json.loads(l.split("@@VIBEML ", 1)[1]) for l in text.splitlines() if "@@VIBEML " in l]


class Obj(types.SimpleNamespace):
    pass


def stub_state(**kw):
    d = dict(global_step=0, max_steps=100, epoch=0.0, is_world_process_zero=True,
             num_input_tokens_seen=0)
    d.update(kw)
    return Obj(**d)


def stub_args(out):
    return Obj(num_train_epochs=1.0, world_size=2, per_device_train_batch_size=2,
               gradient_accumulation_steps=4, output_dir=out)


class ParamsTest(unittest.TestCase):
    def setUp(self):
        os.environ.pop("VIBEML_PARAMS", None)
        os.environ.pop("VIBEML_PARAMS_FILE", None)
        for k in ("VIBEML_CHECKPOINT_DIR", "VIBEML_OUTPUT_DIR", "VIBEML_JOB_ID"):
            os.environ.pop(k, None)

    def test_env_and_file(self):
        doc = {"model": "a/b", "dataset": "c/d", "hyperparameters": {"lora_r": 8},
               "checkpoint_dir": "/checkpoint", "push_to_hub": None}
        os.environ["VIBEML_PARAMS"] = json.dumps(doc)
        p = vh.load_params()
        self.assertEqual((p.model, p.dataset, p.hp("lora_r"), p.hp("nope", 3)), ("a/b", "c/d", 8, 3))
        self.assertEqual(p.output_dir, "/checkpoint/final")
        del os.environ["VIBEML_PARAMS"]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        os.environ["VIBEML_PARAMS_FILE"] = f.name
        self.assertEqual(vh.load_params().model, "a/b")
        os.unlink(f.name)

    def test_missing(self):
        with self.assertRaises(ValueError):
            vh.load_params()
        os.environ["VIBEML_PARAMS"] = json.dumps({"model": "a/b"})
        with self.assertRaises(ValueError):
            vh.load_params()

    def test_training_args(self):
        os.environ["VIBEML_PARAMS"] = json.dumps({"model": "a/b", "dataset": "c/d", "hyperparameters": {
            "learning_rate": 1e-5, "save_steps": 7, "max_steps": 50, "per_device_batch_size": 3}})
        kw = vh.training_args_common(vh.load_params(), 1000, True)
        self.assertEqual(kw["learning_rate"], 1e-5)
        # warm-up in steps (warmup_ratio is deprecated in transformers 5): 3 % of 50 steps
        self.assertNotIn("warmup_ratio", kw)
        self.assertEqual(kw["warmup_steps"], 2)
        self.assertEqual(kw["eval_strategy"], "steps")
        self.assertEqual(kw["eval_steps"], 7)
        self.assertEqual(vh.training_args_common(vh.load_params(), 1000, False)["eval_strategy"], "no")
        self.assertEqual(kw["save_steps"], 7)
        self.assertEqual(kw["max_steps"], 50)
        self.assertEqual(kw["per_device_train_batch_size"], 3)
        self.assertEqual(kw["save_strategy"], "steps")
        self.assertEqual(kw["output_dir"], "checkpoints")
        self.assertTrue(kw["disable_tqdm"])


    def test_backend_dirs_and_fingerprint(self):
        doc = {"model": "a/b", "dataset": "c/d", "workflow": "lora", "checkpoint_dir": "ck",
               "hyperparameters": {"learning_rate": 1e-4, "save_steps": 10}}
        os.environ["VIBEML_PARAMS"] = json.dumps(doc)
        os.environ["VIBEML_JOB_ID"] = "job-1"
        os.environ["VIBEML_CHECKPOINT_DIR"] = "~/bucket/job-1/checkpoints"
        os.environ["VIBEML_OUTPUT_DIR"] = "~/bucket/job-1/output"
        p = vh.load_params()
        self.assertEqual(p.checkpoint_dir, os.path.expanduser("~/bucket/job-1/checkpoints"))
        self.assertEqual(p.output_dir, os.path.expanduser("~/bucket/job-1/output"))
        self.assertTrue(p.hub_private)
        fp = p.fingerprint
        self.assertEqual(len(fp), 64)
        # cadence does not change the run; what shapes training, or another job, does
        doc["hyperparameters"]["save_steps"] = 50
        os.environ["VIBEML_PARAMS"] = json.dumps(doc)
        self.assertEqual(vh.load_params().fingerprint, fp)
        doc["hyperparameters"]["learning_rate"] = 2e-4
        os.environ["VIBEML_PARAMS"] = json.dumps(doc)
        self.assertNotEqual(vh.load_params().fingerprint, fp)
        doc["hyperparameters"]["learning_rate"] = 1e-4
        os.environ["VIBEML_PARAMS"] = json.dumps(doc)
        os.environ["VIBEML_JOB_ID"] = "job-2"
        self.assertNotEqual(vh.load_params().fingerprint, fp)
        # without the backend's envs: the document, as before
        for k in ("VIBEML_CHECKPOINT_DIR", "VIBEML_OUTPUT_DIR"):
            del os.environ[k]
        self.assertEqual(vh.load_params().checkpoint_dir, "ck")
        self.assertEqual(vh.load_params().output_dir, os.path.join("ck", "final"))


class FormatTest(unittest.TestCase):
    def test_detect(self):
        self.assertEqual(vh.detect_format(["instruction", "input", "output"]), "alpaca")
        self.assertEqual(vh.detect_format(["instruction", "context", "response"]), "alpaca")
        self.assertEqual(vh.detect_format(["conversations"]), "sharegpt")
        self.assertEqual(vh.detect_format(["messages", "id"]), "messages")
        self.assertEqual(vh.detect_format(["prompt", "completion"]), "prompt_completion")
        self.assertEqual(vh.detect_format(["text", "meta"]), "text")
        with self.assertRaisesRegex(ValueError, "preference dataset"):
            vh.detect_format(["prompt", "chosen", "rejected"])
        with self.assertRaisesRegex(ValueError, "cannot tell the dataset format"):
            vh.detect_format(["a", "b"])

    def test_sharegpt(self):
        m = vh.sharegpt_to_messages([{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"},
                                     {"from": "system", "value": "s"}])
        self.assertEqual(m, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
                             {"role": "system", "content": "s"}])


class CheckpointTest(unittest.TestCase):
    def make(self, d, step, fp=None, state=True):
        p = os.path.join(d, "checkpoint-%d" % step)
        os.makedirs(p)
        if state:
            with open(os.path.join(p, "trainer_state.json"), "w") as f:
                f.write("{}")
        if fp is not None:
            with open(os.path.join(p, vh.FINGERPRINT), "w") as f:
                json.dump({"fingerprint": fp}, f)
        return p

    def test_latest_complete_own(self):
        d = tempfile.mkdtemp()
        self.assertEqual(vh.latest_checkpoint(os.path.join(d, "missing"), "f"), (None, 0))
        self.assertEqual(vh.latest_checkpoint(d, "f"), (None, 0))
        self.make(d, 10, "mine")
        want = self.make(d, 20, "mine")
        self.make(d, 30, None)            # cut off before the fingerprint: incomplete
        self.make(d, 40, "mine", False)   # fingerprint without the Trainer's state
        self.make(d, 50, "theirs")        # another run's checkpoint
        err = io.StringIO()
        from contextlib import redirect_stderr
        with redirect_stderr(err):
            self.assertEqual(vh.latest_checkpoint(d, "mine"), (want, 20))
        self.assertIn("checkpoint-50: it belongs to another run", err.getvalue())
        self.assertIn("checkpoint-30: incomplete", err.getvalue())
        # another run resumes none of them but its own
        with redirect_stderr(io.StringIO()):
            self.assertEqual(vh.latest_checkpoint(d, "other"), (None, 0))


class ProgressTest(unittest.TestCase):
    def test_events(self):
        out = tempfile.mkdtemp()
        os.environ["VIBEML_PARAMS"] = json.dumps({"model": "a/b", "dataset": "c/d", "workflow": "lora"})
        params = vh.load_params()
        cb = vh.VibeMLProgress(params, 0)
        args = stub_args(out)
        st = stub_state()
        ctl = Obj(should_save=False, should_training_stop=False)
        buf = io.StringIO()
        with redirect_stdout(buf):
            cb.on_train_begin(args, st, ctl)
            for step in range(1, 6):
                st.global_step = step
                st.epoch = step / 100
                cb.on_step_end(args, st, ctl)
                cb.on_log(args, st, ctl, logs={"loss": "1.25", "learning_rate": 0.0002,
                                                 "grad_norm": float("nan"), "num_tokens": 1000 * step})
            cb.on_log(args, st, ctl, logs={"eval_loss": 0.9})
            os.makedirs(os.path.join(out, "checkpoint-5"))
            with open(os.path.join(out, "checkpoint-5", "trainer_state.json"), "w") as f:
                f.write("{}")
            cb.on_save(args, st, ctl)
        ev = events(buf.getvalue())
        self.assertEqual(ev[0]["event"], "start")
        self.assertEqual(ev[0]["world_size"], 2)
        self.assertEqual(ev[0]["resumed_from_step"], 0)
        steps = [e for e in ev if e["event"] == "step"]
        self.assertEqual(len(steps), 5)
        self.assertEqual(steps[-1]["loss"], 1.25)  # transformers v5 prints floats as strings
        self.assertNotIn("grad_norm", steps[-1])   # non-finite values are left out
        self.assertEqual(steps[-1]["progress"], 0.05)
        self.assertIn("eta_s", steps[-1])
        self.assertEqual([e for e in ev if e["event"] == "eval"][0]["eval_loss"], 0.9)
        ck = [e for e in ev if e["event"] == "checkpoint"][0]
        self.assertEqual(ck["step"], 5)
        with open(os.path.join(out, "checkpoint-5", vh.FINGERPRINT)) as f:
            self.assertEqual(json.load(f)["fingerprint"], params.fingerprint)
        self.assertEqual(vh.latest_checkpoint(out, params.fingerprint),
                         (os.path.join(out, "checkpoint-5"), 5))
        for line in buf.getvalue().splitlines():
            self.assertTrue(line.startswith("@@VIBEML {"), line)
        self.assertFalse(ctl.should_training_stop)

    def test_sigterm_saves_and_stops(self):
        os.environ["VIBEML_PARAMS"] = json.dumps({"model": "a/b", "dataset": "c/d", "workflow": "full"})
        cb = vh.VibeMLProgress(vh.load_params(), 0)
        args, st = stub_args(tempfile.mkdtemp()), stub_state()
        ctl = Obj(should_save=False, should_training_stop=False)
        vh.install_signal_handlers()
        with redirect_stdout(io.StringIO()):
            cb.on_train_begin(args, st, ctl)
            os.kill(os.getpid(), signal.SIGTERM)
            st.global_step = 1
            cb.on_step_end(args, st, ctl)
        self.assertTrue(ctl.should_save and ctl.should_training_stop and cb.stopped)
        vh._stop["sig"] = None
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def test_rank_nonzero_is_silent(self):
        os.environ["RANK"] = "1"
        try:
            buf = io.StringIO()
            with redirect_stdout(buf):
                vh.emit("step", step=1)
            self.assertEqual(buf.getvalue(), "")
        finally:
            del os.environ["RANK"]


class PublishTest(unittest.TestCase):
    def test_artifact_and_failed_push(self):
        out = tempfile.mkdtemp()
        os.makedirs(os.path.join(out, "sub"))
        for n in ("adapter_model.safetensors", os.path.join("sub", "x.json")):
            with open(os.path.join(out, n), "w") as f:
                f.write("x")
        os.environ["VIBEML_OUTPUT_DIR"] = out
        try:
            os.environ["VIBEML_PARAMS"] = json.dumps({"model": "a/b", "dataset": "c/d"})
            buf = io.StringIO()
            with redirect_stdout(buf):
                self.assertEqual(vh.publish(vh.load_params(), "lora_adapter", "m"), 0)
            art = [e for e in events(buf.getvalue()) if e["event"] == "artifact"][0]
            self.assertEqual(art["path"], out)
            self.assertEqual(art["files"], ["adapter_model.safetensors", "sub/x.json"])
            self.assertIsNone(art["push_to_hub"])
            # a push that cannot happen (no huggingface_hub here, or nothing listening on the
            # loopback endpoint): exit status 1
            os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
            os.environ["VIBEML_PARAMS"] = json.dumps({"model": "a/b", "dataset": "c/d",
                                                      "push_to_hub": "me/model", "hub_private": False})
            p = vh.load_params()
            self.assertFalse(p.hub_private)
            buf = io.StringIO()
            from contextlib import redirect_stderr
            with redirect_stdout(buf), redirect_stderr(io.StringIO()):
                self.assertEqual(vh.publish(p, "lora_adapter", "m"), 1)
            ev = events(buf.getvalue())
            self.assertEqual(ev[0]["push_to_hub"], "me/model")
            self.assertEqual(ev[-1]["event"], "error")
            self.assertIn("push to me/model failed", ev[-1]["message"])
        finally:
            del os.environ["VIBEML_OUTPUT_DIR"]


class ScriptStartTest(unittest.TestCase):
    def run_script(self, name, params):
        env = dict(os.environ, VIBEML_PARAMS=json.dumps(params) if params is not None else "")
        env.pop("VIBEML_PARAMS_FILE", None)
        r = subprocess.run([sys.executable, os.path.join(WF, name, "train.py")], env=env,
                           capture_output=True, text=True, timeout=120)
        return r.returncode, events(r.stdout), r.stderr

    def test_bad_params_error_event(self):
        for name in ("unsloth", "lora", "full"):
            rc, ev, _ = self.run_script(name, None)
            self.assertEqual(rc, 1, name)
            self.assertEqual(ev[-1]["event"], "error")
            self.assertIn("VIBEML_PARAMS", ev[-1]["message"])

    def test_missing_packages_error_event(self):
        for name in ("unsloth", "lora", "full"):
            rc, ev, err = self.run_script(name, {"model": "a/b", "dataset": "c/d", "hyperparameters": {}})
            if rc == 0:
                self.skipTest("the ML packages are installed here")
            self.assertEqual(rc, 1, name + err)
            self.assertEqual(ev[-1]["event"], "error", name)
            self.assertIn(ev[-1]["exc_type"], ("ModuleNotFoundError", "ImportError"))


# Stand-ins for the ML packages, just enough for the TRL scripts (full, lora) to run from start to
# end on the CPU: a tokenizer, a dataset with a text column, SFTConfig/SFTTrainer that "train" by
# calling the callbacks and write the output folder, LoraConfig.
STUBS = {
    "transformers/__init__.py": """
class TrainerCallback(object):
    pass
class _Tok(object):
    pad_token = None
    eos_token = "</s>"
    chat_template = None
    def save_pretrained(self, out):
        import os
        os.makedirs(out, exist_ok=True)
        open(os.path.join(out, "tokenizer.json"), "w").write("{}")
class AutoTokenizer(object):
    @staticmethod
    def from_pretrained(name, token=None):
        return _Tok()
""",
    "datasets/__init__.py": """
class Dataset(object):
    def __init__(self, rows):
        self.rows = rows
        self.column_names = sorted(rows[0]) if rows else []
    def __len__(self):
        return len(self.rows)
    def __getitem__(self, i):
        return self.rows[i]
    def select(self, r):
        return Dataset([self.rows[i] for i in r])
    def remove_columns(self, cols):
        return Dataset([{k: v for k, v in r.items() if k not in cols} for r in self.rows])
    def train_test_split(self, test_size, seed, shuffle):
        return {"train": Dataset(self.rows[test_size:]), "test": Dataset(self.rows[:test_size])}
def load_dataset(name, config, split, token=None):
    return Dataset([{"text": "row %d" % i} for i in range(40)])
""",
    "peft/__init__.py": """
class LoraConfig(object):
    def __init__(self, **kw):
        self.kw = kw
""",
    "trl/__init__.py": """
import os, types
class SFTConfig(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)
class SFTTrainer(object):
    def __init__(self, model, args, train_dataset, eval_dataset, processing_class, callbacks,
                 peft_config=None):
        self.args, self.callbacks, self.peft = args, callbacks, peft_config
        self.state = types.SimpleNamespace(global_step=0, max_steps=3, epoch=0.0,
                                           is_world_process_zero=True, log_history=[],
                                           num_input_tokens_seen=0)
    def is_world_process_zero(self):
        return True
    def train(self, resume_from_checkpoint=None):
        self.state.global_step = self.state.max_steps
        return types.SimpleNamespace(metrics={"train_runtime": 1.5, "train_loss": 0.25})
    def evaluate(self):
        return {}
    def save_model(self, out):
        os.makedirs(out, exist_ok=True)
        name = "adapter_model.safetensors" if self.peft else "model.safetensors"
        open(os.path.join(out, name), "w").write("w")
""",
}


class ScriptRunTest(unittest.TestCase):
    """full and lora from start to end against the stand-in packages: the phases in order, the
    output files, the artifact and the completed end event."""

    def test_trl_scripts_end_to_end(self):
        for name, weights, kind in (("full", "model.safetensors", "model"),
                                    ("lora", "adapter_model.safetensors", "lora_adapter")):
            with tempfile.TemporaryDirectory() as tmp:
                for rel, text in STUBS.items():
                    os.makedirs(os.path.join(tmp, "stubs", os.path.dirname(rel)), exist_ok=True)
                    with open(os.path.join(tmp, "stubs", rel), "w") as f:
                        f.write(text)
                params = {"model": "a/b", "dataset": "c/d", "workflow": name,
                          "hyperparameters": {"max_steps": 3}, "push_to_hub": None}
                env = dict(os.environ, VIBEML_PARAMS=json.dumps(params),
                           PYTHONPATH=os.path.join(tmp, "stubs"),
                           VIBEML_CHECKPOINT_DIR=os.path.join(tmp, "ckpt"),
                           VIBEML_OUTPUT_DIR=os.path.join(tmp, "out"))
                env.pop("VIBEML_PARAMS_FILE", None)
                r = subprocess.run([sys.executable, os.path.join(WF, name, "train.py")], env=env,
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(r.returncode, 0, name + r.stdout + r.stderr)
                ev = events(r.stdout)
                phases = [(e["phase"], e["status"]) for e in ev if e["event"] == "phase"]
                order = ["load_model", "tokenize", "download", "train", "save"]
                self.assertEqual([p for p, st in phases if st == "start" and p in order], order,
                                 name)
                tok = [e for e in ev if e["event"] == "phase" and e["phase"] == "tokenize"]
                self.assertEqual((tok[-1]["dataset_format"], tok[-1]["rows"],
                                  tok[-1]["eval_rows"]), ("text", 39, 1), name)
                art = [e for e in ev if e["event"] == "artifact"]
                self.assertEqual(len(art), 1, name)
                self.assertEqual(art[0]["kind"], kind)
                self.assertEqual(sorted(art[0]["files"]), sorted([weights, "tokenizer.json"]))
                self.assertEqual(ev[-1]["event"], "end", name)
                self.assertEqual((ev[-1]["status"], ev[-1]["step"], ev[-1]["total_steps"],
                                  ev[-1]["train_loss"]), ("completed", 3, 3, 0.25), name)


if __name__ == "__main__":
    unittest.main()
