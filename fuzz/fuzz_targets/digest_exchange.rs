#![no_main]
keyprov_fuzz::fuzz_check!(digest_exchange);
