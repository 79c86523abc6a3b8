"""Validates the tasks dump_tasks.lua wrote: each against the excerpt of SkyPilot's task schema
(tests/fixtures/skypilot_task_schema.json), and its disk against the checkpoints it keeps. The
checkpoint size is computed here independently of vibeml.sizing: a full fine-tune checkpoint is
ckpt_bytes_per_param bytes per parameter (bf16 weights, fp32 master, Adam moments, the gathered
16-bit model), ZeRO-3 spreading all but the gathered model over the nodes; a LoRA one is the
adapter with its optimizer state. usage: check_tasks.py DIR SCHEMA"""
import json
import os
import sys

import jsonschema

d, schema_path = sys.argv[1], sys.argv[2]
schema = json.load(open(schema_path))
validator = jsonschema.Draft202012Validator(schema)
man = json.load(open(os.path.join(d, "manifest.json")))
bad = 0
for t in man["tasks"]:
    task = json.load(open(os.path.join(d, t["file"])))
    errs = sorted(validator.iter_errors(task), key=lambda e: list(e.path))
    for e in errs:
        bad += 1
        print("FAIL %s: schema: %s at %s" % (t["file"], e.message[:200], "/".join(map(str, e.path))))
    p = t["params_b"]
    if t["method"] == "full":
        per = t["ckpt_bytes_per_param"] or 16
        ckpt = p * (per - 2) / t["nodes"] + 2 * p
        need = (t["save_total_limit"] + 1) * ckpt + 2 * p + 2 * p  # checkpoints, download, final model
    else:
        adapter = p * 0.00033 * (t["lora_r"] or 16)  # billions of adapter parameters
        ckpt = adapter * 16
        need = (t["save_total_limit"] + 1) * ckpt + 2 * p
    disk = task["resources"]["disk_size"]
    if disk < need:
        bad += 1
        print("FAIL %s: disk %d GB < %.0f GB for %d checkpoints of %.1f GB, the model and output"
              % (t["file"], disk, need, t["save_total_limit"] + 1, ckpt))
    # the task names only files it ships
    shipped = {f["path"] for f in t["files"]}
    for word in task["run"].replace("\n", " ").split():
        if word.endswith((".py", ".json")) and word not in shipped:
            bad += 1
            print("FAIL %s: run names %s, which the task does not ship" % (t["file"], word))
print("%d tasks checked against SkyPilot's schema and their checkpoints' disk; %d refused sizes; "
      "%d problems" % (len(man["tasks"]), man["refused"], bad))
sys.exit(1 if bad or not man["tasks"] else 0)
