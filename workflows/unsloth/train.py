#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VibeML unsloth workflow: 4-bit QLoRA with Unsloth on one GPU.
Every parameter comes from the JSON document in VIBEML_PARAMS / VIBEML_PARAMS_FILE (see
vibeml_hf.py)."""
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
    # Unsloth must be imported before trl/transformers/peft: it patches them
    from unsloth import FastLanguageModel, is_bfloat16_supported
    from trl import SFTConfig, SFTTrainer

    hp = params.hp
    max_len = int(hp("max_seq_length", 2048))
    vh.emit("phase", phase="load_model", status="start")
    model, tok = FastLanguageModel.from_pretrained(model_name=params.model, max_seq_length=max_len,
                                                   dtype=None, load_in_4bit=True,
                                                   token=vh.hf_token())
    model = FastLanguageModel.get_peft_model(
        model, r=int(hp("lora_r", 16)), lora_alpha=int(hp("lora_alpha", 16)),
        lora_dropout=float(hp("lora_dropout", 0)), bias="none",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                        "down_proj"],
        use_gradient_checkpointing="unsloth", random_state=int(hp("seed", 3407)))
    vh.emit("phase", phase="load_model", status="end")

    vh.emit("phase", phase="tokenize", status="start")
    ds, held, kind, fmt = vh.load_and_format(params, eos_token=tok.eos_token or "")
    if vh.is_conversational(ds, kind):
        template = hp("chat_template", "auto")
        if template != "auto" or not getattr(tok, "chat_template", None):
            # a named template, or ChatML for a base model without one
            from unsloth.chat_templates import get_chat_template
            tok = get_chat_template(tok, chat_template=template if template != "auto" else "chatml")
    if kind == "messages":
        def to_text(row):
            return {"text": tok.apply_chat_template(row["messages"], tokenize=False,
                                                    add_generation_prompt=False)}
        ds = ds.map(to_text, remove_columns=ds.column_names)
        if held is not None:
            held = held.map(to_text, remove_columns=held.column_names)
        kind = "text"
    vh.emit("phase", phase="tokenize", status="end", dataset_format=fmt, rows=len(ds),
            eval_rows=len(held) if held is not None else 0)

    kw = vh.training_args_common(params, len(ds), held is not None)
    # bf16 where the GPU has it (Ampere+), fp16 on T4/V100 (the workflow runs from 7.0)
    bf16 = bool(is_bfloat16_supported())
    kw.update(max_length=max_len, optim=hp("optim", "adamw_8bit"), bf16=bf16, fp16=not bf16)
    kw.update(vh.sft_data_kwargs(params, kind))
    kw.pop("gradient_checkpointing", None)  # Unsloth's own checkpointing is on (above)
    args = SFTConfig(**kw)

    resume, progress = vh.resume_point(params)
    trainer = SFTTrainer(model=model, processing_class=tok, train_dataset=ds, eval_dataset=held,
                         args=args, callbacks=[progress])
    result = vh.run_training(trainer, resume)
    code = vh.finish(trainer, progress, params, started)
    if code is not None:
        return code
    vh.final_eval(trainer, held is not None)

    vh.emit("phase", phase="save", status="start")
    model.save_pretrained(params.output_dir)
    tok.save_pretrained(params.output_dir)
    vh.emit("phase", phase="save", status="end")
    if hp("merge_adapter", False):
        vh.emit("phase", phase="merge", status="start")
        model.save_pretrained_merged(os.path.join(params.output_dir, "merged"), tok,
                                     save_method="merged_16bit")
        vh.emit("phase", phase="merge", status="end")
    gguf = hp("save_gguf", "none")
    if gguf != "none":
        vh.emit("phase", phase="export", status="start", format="gguf", quantization=gguf)
        model.save_pretrained_gguf(os.path.join(params.output_dir, "gguf"), tok,
                                   quantization_method=gguf)
        vh.emit("phase", phase="export", status="end")
    code = vh.publish(params, "lora_adapter", "VibeML QLoRA adapter (Unsloth)")
    return vh.end_event(trainer, result, params, code)


if __name__ == "__main__":
    vh.run_main(main)
