#![no_main]
keyprov_fuzz::fuzz_check!(keyid_build);
