"""Static check of the Hugging Face training scripts against the pinned upstream APIs: every
keyword argument the scripts pass to SFTConfig (TrainingArguments), SFTTrainer, LoraConfig and
Unsloth's calls must be a name that the pinned version defines. The allowed names per version are
in tests/fixtures/upstream_api/*.txt (taken from the upstream sources, see workflows/UPSTREAM.md);
the versions come from each workflow's pins in workflows/<name>/init.lua (or the shared
environment module it requires, lua/vibeml/trl_env.lua). Standard library only.

usage: check_script_kwargs.py SOURCE_DIR            exit 0 when every name is allowed
       check_script_kwargs.py SOURCE_DIR --self-test  also proves a wrong name is caught"""
import ast
import os
import re
import sys

SRC = sys.argv[1]
API = os.path.join(SRC, "tests", "fixtures", "upstream_api")
WF = os.path.join(SRC, "workflows")


def names(fname):
    path = os.path.join(API, fname)
    if not os.path.exists(path):
        raise SystemExit("no list of allowed names %s: record it from the pinned version's source"
                         % path)
    with open(path) as f:
        return {l.strip() for l in f if l.strip() and not l.startswith("#")}


def pins(workflow):
    with open(os.path.join(WF, workflow, "init.lua")) as f:
        text = f.read()
    # a shared environment's pins live in its module (lora and full: lua/vibeml/trl_env.lua)
    for mod in re.findall(r'require "vibeml\.(\w+_env)"', text):
        with open(os.path.join(SRC, "lua", "vibeml", mod + ".lua")) as f:
            text += f.read()
    return dict(re.findall(r'"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.+-]*)"', text))


def kw_of_call(tree, fn_name):
    """(keyword, line) of every call whose function's last name is fn_name."""
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            last = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else None)
            if last == fn_name:
                for k in n.keywords:
                    if k.arg is not None:
                        out.append((k.arg, n.lineno))
    return out


def config_kwargs(tree, func_filter=None):
    """Names that end up in SFTConfig(**kw): dict(...) keywords and dict literals assigned to or
    returned as kw, kw.update(...) keywords, kw["name"] = ... assignments."""
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        if func_filter and fn.name not in func_filter:
            continue
        for n in ast.walk(fn):
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "kw" for t in n.targets):
                v = n.value
                if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "dict":
                    out += [(k.arg, n.lineno) for k in v.keywords if k.arg]
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == "kw"
                            and isinstance(t.slice, ast.Constant)):
                        out.append((t.slice.value, n.lineno))
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "update"
                    and isinstance(n.func.value, ast.Name) and n.func.value.id == "kw"):
                out += [(k.arg, n.lineno) for k in n.keywords if k.arg]
            if fn.name == "sft_data_kwargs" and isinstance(n, ast.Return) and isinstance(n.value, ast.Dict):
                out += [(k.value, n.lineno) for k in n.value.keys if isinstance(k, ast.Constant)]
    return out


def parse(path):
    with open(path) as f:
        return ast.parse(f.read(), path)


def check(workflow, problems):
    p = pins(workflow)
    for need in ("transformers", "trl"):
        if need not in p:
            problems.append("%s: no exact pin for %s in init.lua" % (workflow, need))
            return
    ta = names("transformers-%s-TrainingArguments.txt" % p["transformers"])
    sft = names("trl-%s-SFTConfig.txt" % p["trl"]) | ta
    trainer = names("trl-%s-SFTTrainer.txt" % p["trl"])
    script = os.path.join(WF, workflow, "train.py")
    hf = os.path.join(WF, "vibeml_hf.py")
    t_script, t_hf = parse(script), parse(hf)
    checks = [("SFTConfig", sft, config_kwargs(t_script), script),
              ("SFTConfig", sft, config_kwargs(t_hf, {"training_args_common", "sft_data_kwargs"}), hf),
              ("SFTConfig", sft, kw_of_call(t_script, "SFTConfig"), script),
              ("SFTTrainer", trainer, kw_of_call(t_script, "SFTTrainer"), script)]
    if "peft" in p:
        checks.append(("LoraConfig", names("peft-%s-LoraConfig.txt" % p["peft"]),
                       kw_of_call(t_script, "LoraConfig"), script))
    if "unsloth" in p:
        v = p["unsloth"]
        for call, fixture in (("from_pretrained", "from_pretrained"), ("get_peft_model", "get_peft_model"),
                              ("get_chat_template", "get_chat_template"),
                              ("save_pretrained_merged", "save_pretrained_merged"),
                              ("save_pretrained_gguf", "save_pretrained_gguf")):
            checks.append(("unsloth " + call, names("unsloth-%s-%s.txt" % (v, fixture)),
                           kw_of_call(t_script, call), script))
    n = 0
    for what, allowed, used, path in checks:
        for name, line in used:
            n += 1
            if name not in allowed:
                problems.append("%s:%d: %s(%s=...) is not an argument of %s in the pinned version (%s)"
                                % (os.path.relpath(path, SRC), line, what, name, what, workflow))
    return n


def main():
    problems, total = [], 0
    for wf in ("unsloth", "lora", "full"):
        total += check(wf, problems) or 0
    if "--self-test" in sys.argv:
        # the check must be able to fail: a name that the pinned TrainingArguments lacks
        bad = ast.parse("def f():\n    kw = dict(output_dir='x', evaluation_strategy='steps')\n")
        used = config_kwargs(bad)
        allowed = names("transformers-%s-TrainingArguments.txt" % pins("lora")["transformers"])
        if all(n in allowed for n, _ in used):
            problems.append("self-test: evaluation_strategy was not caught")
    for p in problems:
        print("FAIL " + p)
    print("checked %d keyword arguments of 3 workflows against their pinned versions" % total)
    return 1 if problems else 0


sys.exit(main())
