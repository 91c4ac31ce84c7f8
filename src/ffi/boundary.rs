//! What every exported function does at the boundary: stop panics, check pointers, record the
//! message of the last failure, and copy results into the caller's buffers.
//!
//! Every `keyprov_*` function runs its body through [`call`], which turns a panic into
//! `KEYPROV_PANIC` instead of unwinding into C, and turns a [`Failure`] into its result code.
//! The pointer helpers here are the only places that turn C pointers into Rust references.

use core::ffi::c_char;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::string::{String, ToString};

use super::result::{KEYPROV_OK, keyprov_result};
use crate::Error;

/// A flag from C: 0 is no, 1 is yes, and any other value is refused as out of range.
pub(crate) fn flag(value: u8, field: &'static str) -> Result<bool, Error> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::OutOfRange {
            field,
            min: 0,
            max: 1,
        }),
    }
}

/// Why a call failed, before it becomes a result code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The Rust API refused.
    Core(Error),
    /// A required pointer argument is NULL.
    NullPointer {
        /// The argument, as named in the header.
        argument: &'static str,
    },
    /// A panic was caught at the boundary.
    Panic,
    /// The object saw a panic in an earlier call.
    Poisoned,
    /// A host callback reported a failure.
    Callback {
        /// The callback, as named in the header.
        name: &'static str,
        /// What the callback returned.
        code: keyprov_result,
    },
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Core(error)
    }
}

impl Failure {
    /// The message kept for `keyprov_last_error_message`: lowercase, without secrets.
    fn message(&self) -> String {
        match self {
            Failure::Core(error) => error.to_string(),
            Failure::NullPointer { argument } => format!("null pointer: {argument}"),
            Failure::Panic => "internal error caught at the c boundary".into(),
            Failure::Poisoned => "object unusable after an earlier internal error".into(),
            Failure::Callback { name, code } => format!("{name} reported failure {code}"),
        }
    }
}

std::thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs the body of an exported function: a panic becomes `KEYPROV_PANIC`, a failure its code,
/// and the failure's message is kept for `keyprov_last_error_message`.
pub(crate) fn call(body: impl FnOnce() -> Result<(), Failure>) -> keyprov_result {
    match run(body) {
        Ok(()) => KEYPROV_OK,
        Err(failure) => {
            let message = failure.message();
            LAST_ERROR.with(|last| *last.borrow_mut() = message);
            failure.code()
        }
    }
}

/// Like [`call`], but leaves the stored message of the last failure alone.
pub(crate) fn call_keeping_last_error(
    body: impl FnOnce() -> Result<(), Failure>,
) -> keyprov_result {
    match run(body) {
        Ok(()) => KEYPROV_OK,
        Err(failure) => failure.code(),
    }
}

/// A copy of the message of the last failure on this thread.
pub(crate) fn last_error_message() -> String {
    LAST_ERROR.with(|last| last.borrow().clone())
}

fn run(body: impl FnOnce() -> Result<(), Failure>) -> Result<(), Failure> {
    // Objects touched by a panicking body are marked poisoned by `Object::update`, so observing
    // them after the unwind is safe even though the closure is not `UnwindSafe`.
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or(Err(Failure::Panic))
}

/// A Rust value owned by C through a pointer, refusing further use after a panic inside it.
pub(crate) struct Object<T> {
    value: T,
    poisoned: bool,
}

impl<T> Object<T> {
    /// Wraps a fresh value.
    pub(crate) fn new(value: T) -> Self {
        Self {
            value,
            poisoned: false,
        }
    }

    /// The value, for calls that do not change it.
    pub(crate) fn get(&self) -> Result<&T, Failure> {
        if self.poisoned {
            Err(Failure::Poisoned)
        } else {
            Ok(&self.value)
        }
    }

    /// Marks the object unusable: a change went through with input that turned out bad.
    pub(crate) fn poison(&mut self) {
        self.poisoned = true;
    }

    /// Runs a change; if it panics, the object stays poisoned for good.
    pub(crate) fn update<R>(
        &mut self,
        change: impl FnOnce(&mut T) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        if self.poisoned {
            return Err(Failure::Poisoned);
        }
        self.poisoned = true;
        let outcome = change(&mut self.value);
        self.poisoned = false;
        outcome
    }
}

/// Moves a value to the heap and hands its pointer to C through `out`.
///
/// # Safety
/// `out` is NULL or valid for a write of one pointer.
pub(crate) unsafe fn hand_out<T>(value: T, out: *mut *mut T) -> Result<(), Failure> {
    if out.is_null() {
        return Err(null("object_out"));
    }
    let pointer = Box::into_raw(Box::new(value));
    // SAFETY: `out` is not NULL and the caller guarantees it is valid for one write.
    unsafe { out.write(pointer) };
    Ok(())
}

/// Takes back and drops a value handed out by [`hand_out`]; NULL is ignored.
///
/// # Safety
/// `pointer` is NULL or came from [`hand_out`] for the same `T` and was not freed before.
pub(crate) unsafe fn free<T>(pointer: *mut T) {
    if !pointer.is_null() {
        // SAFETY: the pointer came from `Box::into_raw` in `hand_out` and is freed only once.
        drop(unsafe { Box::from_raw(pointer) });
    }
}

/// The object behind a pointer the caller does not let go of during the call.
///
/// # Safety
/// `pointer` is NULL or points to a live `T` not changed by anyone else during `'a`.
pub(crate) unsafe fn object<'a, T>(
    pointer: *const T,
    argument: &'static str,
) -> Result<&'a T, Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    unsafe { pointer.as_ref() }.ok_or_else(|| null(argument))
}

/// The object behind a pointer, for a call that changes it.
///
/// # Safety
/// `pointer` is NULL or points to a live `T` not used by anyone else during `'a`.
pub(crate) unsafe fn object_mut<'a, T>(
    pointer: *mut T,
    argument: &'static str,
) -> Result<&'a mut T, Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    unsafe { pointer.as_mut() }.ok_or_else(|| null(argument))
}

/// An input byte string: NULL with length 0 is empty, NULL with a length is refused.
///
/// # Safety
/// `pointer` is NULL or valid for reads of `len` bytes that nobody changes during `'a`.
pub(crate) unsafe fn bytes_in<'a>(
    pointer: *const u8,
    len: usize,
    argument: &'static str,
) -> Result<&'a [u8], Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    unsafe { slice_in(pointer, len, argument) }
}

/// An input array of `count` elements: NULL with count 0 is empty.
///
/// # Safety
/// `pointer` is NULL or valid for reads of `count` elements that nobody changes during `'a`.
pub(crate) unsafe fn slice_in<'a, T>(
    pointer: *const T,
    count: usize,
    argument: &'static str,
) -> Result<&'a [T], Failure> {
    match (pointer.is_null(), count) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(null(argument)),
        (false, _) => {
            let count = possible::<T>(count, argument)?;
            // SAFETY: not NULL, no larger than any buffer can be, and the caller guarantees
            // `count` readable elements.
            Ok(unsafe { core::slice::from_raw_parts(pointer, count) })
        }
    }
}

/// An input text of `len` bytes (no NUL needed), which must be UTF-8.
///
/// # Safety
/// As for [`bytes_in`].
pub(crate) unsafe fn text_in<'a>(
    pointer: *const c_char,
    len: usize,
    argument: &'static str,
) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    let bytes = unsafe { bytes_in(pointer.cast(), len, argument) }?;
    core::str::from_utf8(bytes).map_err(|_| {
        Error::InvalidValue {
            field: argument,
            reason: "not utf-8",
        }
        .into()
    })
}

/// An output byte buffer the call fills completely: NULL with length 0 is empty.
///
/// # Safety
/// `pointer` is NULL or valid for writes of `len` bytes that nobody else uses during `'a`.
pub(crate) unsafe fn bytes_out<'a>(
    pointer: *mut u8,
    len: usize,
    argument: &'static str,
) -> Result<&'a mut [u8], Failure> {
    match (pointer.is_null(), len) {
        (_, 0) => Ok(&mut []),
        (true, _) => Err(null(argument)),
        (false, _) => {
            let len = possible::<u8>(len, argument)?;
            // SAFETY: not NULL, no larger than any buffer can be, and the caller guarantees
            // `len` writable bytes used by no one else.
            Ok(unsafe { core::slice::from_raw_parts_mut(pointer, len) })
        }
    }
}

/// `count` elements of `T`, refused if they would span more than `isize::MAX` bytes, which no
/// buffer can: such a length is a caller's mistake, not a buffer to read.
fn possible<T>(count: usize, argument: &'static str) -> Result<usize, Failure> {
    let max = isize::MAX.unsigned_abs() / core::mem::size_of::<T>().max(1);
    if count > max {
        return Err(Error::TooLong {
            field: argument,
            max,
            actual: count,
        }
        .into());
    }
    Ok(count)
}

/// Copies a fixed-size output (a key, a tag) to the front of `out`, which must hold at least
/// its length: `KEYPROV_BUFFER_TOO_SMALL` otherwise, with nothing written.
///
/// # Safety
/// `out` is NULL or valid for writes of `out_len` bytes, separate from `bytes`.
pub(crate) unsafe fn fixed_out(
    bytes: &[u8],
    out: *mut u8,
    out_len: usize,
    argument: &'static str,
) -> Result<(), Failure> {
    if out_len < bytes.len() {
        return Err(Error::BufferTooSmall {
            needed: bytes.len(),
        }
        .into());
    }
    // SAFETY: forwarded from the caller's guarantee.
    let out = unsafe { bytes_out(out, bytes.len(), argument) }?;
    out.copy_from_slice(bytes);
    Ok(())
}

/// Writes a plain value through an output pointer.
///
/// # Safety
/// `out` is NULL or valid for one write of `T`.
pub(crate) unsafe fn value_out<T>(
    value: T,
    out: *mut T,
    argument: &'static str,
) -> Result<(), Failure> {
    if out.is_null() {
        return Err(null(argument));
    }
    // SAFETY: not NULL, and the caller guarantees it is valid for one write.
    unsafe { out.write(value) };
    Ok(())
}

/// A caller's output buffer and the place that receives the size needed.
pub(crate) struct Buffer {
    pointer: *mut u8,
    len: usize,
    len_out: *mut usize,
}

impl Buffer {
    /// Collects the three arguments of a buffer output; nothing is checked yet.
    pub(crate) fn new(pointer: *mut u8, len: usize, len_out: *mut usize) -> Self {
        Self {
            pointer,
            len,
            len_out,
        }
    }

    /// Checks that `needed` bytes fit, reporting the size through `len_out` first.
    ///
    /// Call this before changing any object, so a too-small buffer leaves everything as it
    /// was.
    ///
    /// # Safety
    /// `len_out` is NULL or valid for one write.
    pub(crate) unsafe fn reserve(&self, needed: usize) -> Result<(), Failure> {
        // SAFETY: forwarded from the caller's guarantee.
        unsafe { value_out(needed, self.len_out, "len_out") }?;
        if self.len < needed {
            return Err(Error::BufferTooSmall { needed }.into());
        }
        if self.pointer.is_null() && needed > 0 {
            return Err(null("buf"));
        }
        Ok(())
    }

    /// Copies `bytes` in after a successful [`Buffer::reserve`] of at least their length.
    ///
    /// # Safety
    /// `pointer` is valid for writes of `len` bytes, which do not overlap `bytes`.
    pub(crate) unsafe fn fill(&self, bytes: &[u8]) {
        debug_assert!(bytes.len() <= self.len);
        if !bytes.is_empty() {
            // SAFETY: reserve checked the pointer is not NULL and the length fits; the caller
            // guarantees the buffer is writable and separate from `bytes`.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.pointer, bytes.len()) };
        }
    }

    /// Reserves and fills in one step, for outputs computed before any change.
    ///
    /// # Safety
    /// As for [`Buffer::reserve`] and [`Buffer::fill`].
    pub(crate) unsafe fn write(&self, bytes: &[u8]) -> Result<(), Failure> {
        // SAFETY: forwarded from the caller's guarantee.
        unsafe {
            self.reserve(bytes.len())?;
            self.fill(bytes);
        }
        Ok(())
    }
}

/// Writes `text` and a terminating NUL; `*len_out` receives the size including the NUL.
///
/// # Safety
/// `buf` is NULL or valid for writes of `buf_len` bytes; `len_out` is NULL or writable.
pub(crate) unsafe fn text_out(
    text: &str,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> Result<(), Failure> {
    let buffer = Buffer::new(buf.cast(), buf_len, len_out);
    // SAFETY: forwarded from the caller's guarantee; the NUL goes right after the text, inside
    // the reserved length.
    unsafe {
        buffer.reserve(text.len() + 1)?;
        buffer.fill(text.as_bytes());
        buffer.pointer.add(text.len()).write(0);
    }
    Ok(())
}

/// The failure for a NULL argument.
pub(crate) fn null(argument: &'static str) -> Failure {
    Failure::NullPointer { argument }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::result::{KEYPROV_BUFFER_TOO_SMALL, KEYPROV_PANIC, KEYPROV_POISONED};

    #[test]
    fn a_panic_becomes_a_code_and_poisons_the_object() {
        let mut object = Object::new(5u32);
        let result = call(|| object.update(|_| -> Result<(), Failure> { panic!("inside") }));
        assert_eq!(result, KEYPROV_PANIC);
        assert_eq!(
            last_error_message(),
            "internal error caught at the c boundary"
        );
        assert_eq!(call(|| object.get().map(drop)), KEYPROV_POISONED);
    }

    #[test]
    fn a_failure_inside_update_leaves_the_object_usable() {
        let mut object = Object::new(5u32);
        let result = call(|| object.update(|_| Err(Error::Failed.into())));
        assert_eq!(result, u32::from(Error::Failed.code()));
        assert_eq!(object.get().copied().unwrap(), 5);
    }

    #[test]
    fn buffer_reports_the_size_before_refusing() {
        let mut out = [0u8; 2];
        let mut needed = 0usize;
        let buffer = Buffer::new(out.as_mut_ptr(), out.len(), &mut needed);
        // SAFETY: `out` and `needed` are live locals of the stated sizes.
        let result = call(|| unsafe { buffer.write(b"abc") });
        assert_eq!((result, needed, out), (KEYPROV_BUFFER_TOO_SMALL, 3, [0, 0]));
    }

    #[test]
    fn a_length_no_buffer_can_have_is_refused_before_any_slice_is_made() {
        let mut byte = [0u8; 1];
        let words = [0u32; 1];
        // SAFETY: no buffer can span more than isize::MAX bytes, so the calls must refuse
        // these lengths without reading or writing through the pointers.
        unsafe {
            let too_long = |failure| matches!(failure, Err(Failure::Core(Error::TooLong { .. })));
            assert!(too_long(
                bytes_in(byte.as_ptr(), usize::MAX, "bytes").map(drop)
            ));
            assert!(too_long(
                bytes_in(byte.as_ptr(), isize::MAX as usize + 1, "bytes").map(drop)
            ));
            assert!(too_long(
                slice_in(words.as_ptr(), usize::MAX / 4 + 1, "values").map(drop)
            ));
            assert!(too_long(
                bytes_out(byte.as_mut_ptr(), usize::MAX, "buf").map(drop)
            ));
        }
    }
}
