#![no_main]
keyprov_fuzz::fuzz_check!(wire_refusal);
