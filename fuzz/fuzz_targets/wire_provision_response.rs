#![no_main]
keyprov_fuzz::fuzz_check!(wire_provision_response);
