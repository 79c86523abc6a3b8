#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VibeML full workflow: full fine-tune with TRL. Several GPUs and
nodes shard the model with DeepSpeed ZeRO-3 or FSDP2; accelerate is started by the task's run
line with the config file VIBEML_PARAMS names (accelerate_zero3.json or accelerate_fsdp2.json)
and SkyPilot's node variables. Every parameter comes from the JSON document in VIBEML_PARAMS /
VIBEML_PARAMS_FILE (see vibeml_hf.py)."""
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
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    hp = params.hp
    vh.emit("phase", phase="load_model", status="start")
    tok = AutoTokenizer.from_pretrained(params.model, token=vh.hf_token())
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    vh.emit("phase", phase="load_model", status="end")

    vh.emit("phase", phase="tokenize", status="start")
    ds, held, kind, fmt = vh.load_and_format(params, eos_token=tok.eos_token or "")
    tok = vh.ensure_chat_template(tok, params, vh.is_conversational(ds, kind))
    vh.emit("phase", phase="tokenize", status="end", dataset_format=fmt, rows=len(ds),
            eval_rows=len(held) if held is not None else 0)

    kw = vh.training_args_common(params, len(ds), held is not None)
    kw.update(bf16=True, max_length=int(hp("max_seq_length", 2048)),
              optim=hp("optim", "adamw_torch_fused"),
              learning_rate=float(hp("learning_rate", 2e-5)),
              # the model is loaded by the trainer (inside the ZeRO-3/FSDP context when sharded)
              model_init_kwargs={"dtype": "bfloat16", "token": vh.hf_token()})
    kw.update(vh.sft_data_kwargs(params, kind))
    args = SFTConfig(**kw)

    resume, step = vh.latest_checkpoint(params.checkpoint_dir, params.fingerprint)
    if resume:
        vh.log("resuming from %s (step %d)" % (resume, step))
    progress = vh.VibeMLProgress(params, step)
    trainer = SFTTrainer(model=params.model, args=args, train_dataset=ds, eval_dataset=held,
                         processing_class=tok, callbacks=[progress])
    vh.emit("phase", phase="train", status="start")
    result = trainer.train(resume_from_checkpoint=resume)
    vh.emit("phase", phase="train", status="end")
    code = vh.finish(trainer, progress, params, started)
    if code is not None:
        return code
    vh.final_eval(trainer, held is not None)

    vh.emit("phase", phase="save", status="start")
    # with ZeRO-3 / FSDP every rank takes part in gathering the full weights
    trainer.save_model(params.output_dir)
    if trainer.is_world_process_zero():
        tok.save_pretrained(params.output_dir)
    vh.emit("phase", phase="save", status="end")
    code = 0
    if trainer.is_world_process_zero():
        code = vh.publish(params, "model", "VibeML full fine-tune")
    vh.barrier()
    vh.emit("end", status="completed" if code == 0 else "failed", step=trainer.state.global_step,
            total_steps=trainer.state.max_steps,
            train_runtime_s=vh._num(result.metrics.get("train_runtime")),
            train_loss=vh._num(result.metrics.get("train_loss")), output_dir=params.output_dir)
    return code


if __name__ == "__main__":
    vh.run_main(main)
