//! Version of the header and of the library.

use core::ffi::c_char;

/// Major version of the header (the crate version's first number).
pub const KEYPROV_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const KEYPROV_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const KEYPROV_VERSION_PATCH: u32 = 0;

/// The version of the library that is linked, as NUL-terminated text "MAJOR.MINOR.PATCH".
///
/// Compare it with `KEYPROV_VERSION_STRING` (written into the header by `cbindgen.toml`, since
/// cbindgen does not translate text constants) to detect a header that does not match the
/// library.
/// The text is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn keyprov_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_constants_follow_the_crate_version() {
        let parts: Vec<u32> = env!("CARGO_PKG_VERSION")
            .split('.')
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(
            parts,
            [
                KEYPROV_VERSION_MAJOR,
                KEYPROV_VERSION_MINOR,
                KEYPROV_VERSION_PATCH
            ]
        );
        let define = format!(
            "#define KEYPROV_VERSION_STRING \"{}\"",
            env!("CARGO_PKG_VERSION")
        );
        assert!(
            include_str!("../../cbindgen.toml").contains(&define),
            "update cbindgen.toml"
        );
    }

    #[test]
    fn runtime_version_is_nul_terminated() {
        // SAFETY: keyprov_version returns a static NUL-terminated string.
        let text = unsafe { core::ffi::CStr::from_ptr(keyprov_version()) };
        assert_eq!(text.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
