#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VibeML lora workflow: bf16 LoRA with TRL + PEFT (reference/training.md §2b). One process per
GPU under accelerate when the node has several (the task's run line decides). Every parameter
comes from the JSON document in VIBEML_PARAMS / VIBEML_PARAMS_FILE (see vibeml_hf.py)."""
import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
# vibeml_hf.py ships beside this script in a job; in the source tree it is one folder up
sys.path[:0] = [_here, os.path.dirname(_here)]
import vibeml_hf as vh  # noqa: E402


def main():
    params = vh.load_params()
    vh.install_signal_handlers()
    started = time.time()
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    hp = params.hp
    vh.emit("phase", phase="load_model", status="start")
    tok = AutoTokenizer.from_pretrained(params.model, token=vh.hf_token())
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(params.model, dtype=torch.bfloat16,
                                                 token=vh.hf_token())
    vh.emit("phase", phase="load_model", status="end")

    vh.emit("phase", phase="tokenize", status="start")
    ds, kind, fmt = vh.load_and_format(params, eos_token=tok.eos_token or "")
    vh.emit("phase", phase="tokenize", status="end", dataset_format=fmt, rows=len(ds))

    peft_config = LoraConfig(r=int(hp("lora_r", 16)), lora_alpha=int(hp("lora_alpha", 32)),
                             lora_dropout=float(hp("lora_dropout", 0.05)), bias="none",
                             task_type="CAUSAL_LM", target_modules="all-linear")
    kw = vh.training_args_common(params)
    kw.update(bf16=True, max_length=int(hp("max_seq_length", 2048)),
              optim=hp("optim", "adamw_torch_fused"))
    if kind == "text":
        kw["dataset_text_field"] = "text"
    args = SFTConfig(**kw)
    progress = vh.VibeMLProgress("lora", params.model)
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                         peft_config=peft_config, callbacks=[progress])

    resume = vh.latest_checkpoint(params.checkpoint_dir)
    if resume:
        vh.log("resuming from %s" % resume)
    vh.emit("phase", phase="train", status="start")
    result = trainer.train(resume_from_checkpoint=resume)
    vh.emit("phase", phase="train", status="end")
    code = vh.finish(trainer, progress, params, started)
    if code is not None:
        return code

    vh.emit("phase", phase="save", status="start")
    trainer.save_model(params.output_dir)  # the adapter
    if trainer.is_world_process_zero():
        tok.save_pretrained(params.output_dir)
    vh.emit("phase", phase="save", status="end")
    if hp("merge_adapter", False) and trainer.is_world_process_zero():
        vh.emit("phase", phase="merge", status="start")
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(os.path.join(params.output_dir, "merged"))
        tok.save_pretrained(os.path.join(params.output_dir, "merged"))
        vh.emit("phase", phase="merge", status="end")
    if params.push_to_hub and trainer.is_world_process_zero():
        vh.emit("phase", phase="upload", status="start")
        trainer.model.push_to_hub(params.push_to_hub, token=vh.hf_token(), private=True)
        tok.push_to_hub(params.push_to_hub, token=vh.hf_token(), private=True)
        vh.emit("phase", phase="upload", status="end", repo=params.push_to_hub)
    vh.emit("artifact", path=params.output_dir, kind="lora_adapter")
    vh.emit("end", status="completed", step=trainer.state.global_step,
            total_steps=trainer.state.max_steps,
            train_runtime_s=vh._num(result.metrics.get("train_runtime")),
            train_loss=vh._num(result.metrics.get("train_loss")), output_dir=params.output_dir)
    return 0


if __name__ == "__main__":
    vh.run_main(main)
