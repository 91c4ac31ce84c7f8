//! Fuzz targets for keyprov. The target bodies live in [`checks`] as plain functions so that
//! the root crate's corpus replay test runs exactly the same checks on stable Rust.

pub mod checks;
pub mod meter;

pub use libfuzzer_sys;

/// Defines a libFuzzer target that runs [`checks`]`::$name` under the counting allocator.
#[macro_export]
macro_rules! fuzz_check {
    ($name:ident) => {
        #[global_allocator]
        static ALLOC: $crate::meter::Meter = $crate::meter::Meter;

        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::checks::$name(data));
    };
}
