#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VibeML lora workflow: bf16 LoRA with TRL + PEFT. One process per
GPU under accelerate when the node has several (the task's run line decides), the frozen base
model sharded with DeepSpeed ZeRO-3 or FSDP2 (accelerate_zero3.json / accelerate_fsdp2.json). Every parameter
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
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    hp = params.hp
    tok, ds, held, kind = vh.prepare_data(params, vh.load_tokenizer(params))

    peft_config = LoraConfig(r=int(hp("lora_r", 16)), lora_alpha=int(hp("lora_alpha", 32)),
                             lora_dropout=float(hp("lora_dropout", 0.05)), bias="none",
                             task_type="CAUSAL_LM", target_modules="all-linear")
    kw = vh.training_args_common(params, len(ds), held is not None)
    kw.update(bf16=True, max_length=int(hp("max_seq_length", 2048)),
              optim=hp("optim", "adamw_torch_fused"),
              # the trainer loads the model after the config exists, so ZeRO-3/FSDP load it
              # sharded across the node's GPUs
              model_init_kwargs={"dtype": "bfloat16", "token": vh.hf_token()})
    kw.update(vh.sft_data_kwargs(params, kind))
    args = SFTConfig(**kw)

    resume, progress = vh.resume_point(params)
    trainer = SFTTrainer(model=params.model, args=args, train_dataset=ds, eval_dataset=held,
                         processing_class=tok, peft_config=peft_config, callbacks=[progress])
    result = vh.run_training(trainer, resume)
    code = vh.finish(trainer, progress, params, started)
    if code is not None:
        return code
    vh.final_eval(trainer, held is not None)

    vh.save_sharded(trainer, tok, params)  # the adapter, gathered from the ZeRO-3/FSDP shards
    code = 0
    if trainer.is_world_process_zero():
        if hp("merge_adapter", False):
            merge(params, tok)
        code = vh.publish(params, "lora_adapter", "VibeML LoRA adapter")
    vh.barrier()
    return vh.end_event(trainer, result, params, code)


def merge(params, tok):
    """A merged 16-bit model beside the adapter: the base model loaded on the CPU (the trained one
    is sharded across GPUs) with the saved adapter folded in."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    vh.emit("phase", phase="merge", status="start")
    base = AutoModelForCausalLM.from_pretrained(params.model, dtype=torch.bfloat16,
                                                token=vh.hf_token(), device_map="cpu")
    merged = PeftModel.from_pretrained(base, params.output_dir).merge_and_unload()
    out = os.path.join(params.output_dir, "merged")
    merged.save_pretrained(out)
    tok.save_pretrained(out)
    vh.emit("phase", phase="merge", status="end")


if __name__ == "__main__":
    vh.run_main(main)
