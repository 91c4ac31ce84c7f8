#![no_main]
keyprov_fuzz::fuzz_check!(device_id_text);
