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
    from trl import SFTConfig, SFTTrainer

    hp = params.hp
    tok, ds, held, kind = vh.prepare_data(params, vh.load_tokenizer(params))

    kw = vh.training_args_common(params, len(ds), held is not None)
    kw.update(bf16=True, max_length=int(hp("max_seq_length", 2048)),
              optim=hp("optim", "adamw_torch_fused"),
              learning_rate=float(hp("learning_rate", 2e-5)),
              # the model is loaded by the trainer (inside the ZeRO-3/FSDP context when sharded)
              model_init_kwargs={"dtype": "bfloat16", "token": vh.hf_token()})
    kw.update(vh.sft_data_kwargs(params, kind))
    args = SFTConfig(**kw)

    resume, progress = vh.resume_point(params)
    trainer = SFTTrainer(model=params.model, args=args, train_dataset=ds, eval_dataset=held,
                         processing_class=tok, callbacks=[progress])
    result = vh.run_training(trainer, resume)
    code = vh.finish(trainer, progress, params, started)
    if code is not None:
        return code
    vh.final_eval(trainer, held is not None)

    vh.save_sharded(trainer, tok, params)  # ZeRO-3/FSDP: every rank gathers the weights
    code = 0
    if trainer.is_world_process_zero():
        code = vh.publish(params, "model", "VibeML full fine-tune")
    vh.barrier()
    return vh.end_event(trainer, result, params, code)


if __name__ == "__main__":
    vh.run_main(main)
