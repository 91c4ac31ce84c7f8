//! The C ABI: every `keyprov_*` symbol of the static and shared library.
//!
//! `include/keyprov.h` is generated from this module by cbindgen. The contract every function
//! follows (result codes, buffers, NULL, ownership, threads) is the "C API conventions"
//! section of the README; each function's documentation adds only what is particular to it.
//!
//! This is the only module of the crate that uses `unsafe`: every block turns a pointer from C
//! into a Rust reference or back, and says why that is sound in a `// SAFETY:` line.

#![allow(
    unsafe_code,
    reason = "the C ABI must read and write through pointers from C"
)]
#![allow(
    clippy::missing_safety_doc,
    reason = "the pointer contract of every exported function is stated once in the README"
)]
#![allow(
    non_camel_case_types,
    reason = "C type names are spelled as in the header"
)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod boundary;

pub mod agent;
pub mod device;
pub mod digest;
pub mod drbg;
pub mod keyid;
pub mod keys;
pub mod layout;
pub mod machine;
pub mod registrar;
pub mod result;
pub mod rng;
pub mod version;
