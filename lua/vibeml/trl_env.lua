-- vibeml.trl_env — the one Python environment the TRL workflows (`lora`, `full`) share: its
-- folder on the VM and its exact pins, kept here so the two descriptors cannot drift apart.
-- `vibeml workflows show lora|full` prints the pins; workflows/UPSTREAM.md says why these
-- versions go together, and tests/integration/check_script_kwargs.py checks the scripts against
-- them. Pure data: plugins may require it too.
--
-- Exact versions, installed together and checked against their sources (workflows/UPSTREAM.md):
-- transformers 4.56.2 + datasets 4.7.0 are the versions TRL 1.9.0's minimum-version CI runs (on
-- torch 2.8.0); accelerate 1.10.1 is the first of TRL's allowed range with FSDP2 in its launcher
-- configs we checked; bitsandbytes provides the 8-bit optimizers; deepspeed ZeRO-3. torch comes
-- first: it is installed alone before the rest because deepspeed's setup imports it. Change them
-- deliberately, together with workflows/UPSTREAM.md and tests/fixtures/upstream_api/.
return {
  path = "$HOME/vibeml-envs/trl-1.9.0",
  pins = {
    "torch==2.8.0",
    "transformers==4.56.2",
    "trl==1.9.0",
    "peft==0.17.1",
    "accelerate==1.10.1",
    "datasets==4.7.0",
    "deepspeed==0.17.5",
    "bitsandbytes==0.47.0",
    "huggingface_hub==0.35.3",
    "hf_transfer==0.1.9",
  },
}
