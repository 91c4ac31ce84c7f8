#![no_main]
keyprov_fuzz::fuzz_check!(role_device);
