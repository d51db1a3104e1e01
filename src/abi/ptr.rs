//! Pointer helpers: the only place in the crate with `unsafe` code.
//!
//! # Safety
//!
//! Every function here trusts the C calling convention of the `D3DKMT*`
//! thunks: a non-NULL pointer a caller passes points at a properly aligned,
//! initialised value of the declared type (or, for buffers, at the number of
//! bytes or elements the caller's size field states), valid for the duration
//! of the call and not accessed by anyone else meanwhile. That is the same
//! contract gdi32 and libdxg rely on; we cannot check it, only NULL, which
//! every helper turns into `None`. The helpers are `pub(crate)` and only
//! `abi` calls them, with pointers it got from C.
#![allow(unsafe_code, reason = "this module is the crate's pointer fence")]

use core::ffi::c_void;

/// A shared view of the caller's struct, or `None` for NULL.
pub(crate) fn in_ref<'a, T>(p: *const T) -> Option<&'a T> {
    // SAFETY: non-NULL pointers from C point at a valid, aligned, initialised
    // T that lives for the call (module contract).
    unsafe { p.as_ref() }
}

/// An exclusive view of the caller's struct, or `None` for NULL.
pub(crate) fn in_mut<'a, T>(p: *mut T) -> Option<&'a mut T> {
    // SAFETY: as `in_ref`, and the caller does not touch the struct during
    // the call (module contract).
    unsafe { p.as_mut() }
}

/// Copies `count` elements from the caller's array. NULL with a nonzero
/// count is `None`; any pointer with count 0 is an empty vector.
pub(crate) fn read_array<T: Copy>(p: *const T, count: usize) -> Option<Vec<T>> {
    if count == 0 {
        return Some(Vec::new());
    }
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-NULL array pointer from C points at `count` valid,
    // aligned elements (module contract).
    Some(unsafe { core::slice::from_raw_parts(p, count) }.to_vec())
}

/// Copies `size` bytes from the caller's buffer. NULL with a nonzero size is
/// `None`.
pub(crate) fn read_bytes(p: *const c_void, size: u32) -> Option<Vec<u8>> {
    read_array(p.cast::<u8>(), size as usize)
}

/// Writes `data` into the caller's buffer, which has room for it: the caller
/// checked the buffer's stated size first. The pointer may be typed `const`
/// in the Windows struct (the session-info query's buffers are).
pub(crate) fn write_bytes(p: *const c_void, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    assert!(!p.is_null(), "write_bytes to NULL");
    // SAFETY: the caller's buffer holds at least `data.len()` writable bytes:
    // its stated size was checked against it (module contract).
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p.cast_mut().cast::<u8>(), data.len()) };
}

/// Writes the elements of `data` into the caller's array, which has room.
pub(crate) fn write_array<T: Copy>(p: *mut T, data: &[T]) {
    if data.is_empty() {
        return;
    }
    assert!(!p.is_null(), "write_array to NULL");
    // SAFETY: the caller's array holds at least `data.len()` elements: its
    // stated count was checked (module contract).
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
}

/// Types every bit pattern of which is a valid value, so they can be read out
/// of any union or byte buffer of at least their size.
///
/// # Safety
/// Implement only for plain integers and `#[repr(C)]` aggregates of them.
pub(crate) unsafe trait Pod: Copy {}
// SAFETY: integers accept every bit pattern.
unsafe impl Pod for u32 {}
// SAFETY: integers accept every bit pattern.
unsafe impl Pod for u64 {}
// SAFETY: integers accept every bit pattern.
unsafe impl Pod for i32 {}
// SAFETY: integers accept every bit pattern.
unsafe impl Pod for u16 {}

/// Reads the first `size_of::<T>()` bytes of a windows-sys union or bitfield
/// struct as a `T` (for example `D3DKMT_CREATEDEVICE`'s `hAdapter`).
pub(crate) fn read_prefix<U, T: Pod>(u: &U) -> T {
    const { assert!(core::mem::size_of::<T>() <= core::mem::size_of::<U>()) };
    // SAFETY: `u` is a valid reference to at least size_of::<T>() bytes
    // (checked above at compile time), T accepts any bit pattern (Pod), and
    // read_unaligned needs no alignment.
    unsafe { core::ptr::read_unaligned((u as *const U).cast::<T>()) }
}

/// Takes back ownership of a `Box` handed to C with `Box::into_raw`. `None`
/// for NULL.
pub(crate) fn take_box<T>(p: *mut T) -> Option<Box<T>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the control API only accepts, as owned pointers, values it made
    // with Box::into_raw, each released once (the header's ownership rule).
    Some(unsafe { Box::from_raw(p) })
}

/// A C context pointer that C code promises may be used from any thread (the
/// header's rule for KMD callback contexts).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ForeignContext(pub(crate) *mut c_void);
// SAFETY: the header requires KMD callback contexts to be safe to use from any
// thread; we only pass the pointer back to the C callbacks.
unsafe impl Send for ForeignContext {}
// SAFETY: as for Send.
unsafe impl Sync for ForeignContext {}

/// Writes one value through a caller's out-pointer; `false` for NULL.
pub(crate) fn write_out<T>(p: *mut T, value: T) -> bool {
    match in_mut(p) {
        Some(slot) => {
            *slot = value;
            true
        }
        None => false,
    }
}

/// Copies as much of `text` as fits into a C char buffer, NUL-terminated;
/// returns the full length (without the NUL).
pub(crate) fn write_c_string(buffer: *mut core::ffi::c_char, size: usize, text: &str) -> usize {
    if !buffer.is_null() && size > 0 {
        let n = text.len().min(size - 1);
        write_array(buffer.cast::<u8>(), &text.as_bytes()[..n]);
        // SAFETY: the buffer holds `size` bytes (header contract) and n < size.
        unsafe { buffer.add(n).write(0) };
    }
    text.len()
}

// SAFETY: integers accept every bit pattern.
unsafe impl Pod for usize {}

/// Reads a `T` at byte `offset` inside a windows-sys union or struct, e.g. a
/// union member's field. Panics if it would read past the end.
pub(crate) fn read_at<U, T: Pod>(u: &U, offset: usize) -> T {
    assert!(offset + core::mem::size_of::<T>() <= core::mem::size_of::<U>(), "read_at past the end");
    // SAFETY: the read stays inside `*u` (checked above), T accepts any bit
    // pattern (Pod), and read_unaligned needs no alignment.
    unsafe { core::ptr::read_unaligned((u as *const U).cast::<u8>().add(offset).cast::<T>()) }
}

/// Reads a NUL-terminated string of `W` units (a `PCWSTR` of either
/// `WCHAR` width, see `crate::wchar`) of at most `max` units, one unit at a
/// time so nothing past the NUL is touched. `None` for NULL; otherwise the
/// units before the NUL, and whether a NUL came within `max`.
pub(crate) fn read_wide_z<W: Pod + Default + PartialEq>(p: *const W, max: usize) -> Option<(Vec<W>, bool)> {
    if p.is_null() {
        return None;
    }
    let mut units = Vec::new();
    for i in 0..max {
        // SAFETY: a non-NULL string pointer from C points at a NUL-terminated
        // string (module contract); we stop at its NUL, so every unit read is
        // in it.
        let unit = unsafe { p.add(i).read_unaligned() };
        if unit == W::default() {
            return Some((units, true));
        }
        units.push(unit);
    }
    Some((units, false))
}

/// The bytes of a plain `#[repr(C)]` value without padding (a windows-sys
/// output struct made of integers), to write through a caller's untyped buffer.
pub(crate) fn bytes_of<T: Copy>(value: &T) -> Vec<u8> {
    read_bytes((value as *const T).cast(), core::mem::size_of::<T>() as u32).expect("a reference is not NULL")
}

/// Reads a NUL-terminated C string (a path from the control API). `None` for
/// NULL or text that is not UTF-8.
pub(crate) fn read_c_str(p: *const core::ffi::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-NULL string pointer from C points at a NUL-terminated
    // string valid for the call (header contract).
    let text = unsafe { core::ffi::CStr::from_ptr(p) };
    text.to_str().ok().map(str::to_owned)
}

/// Takes ownership of a file descriptor this library created and handed to
/// a caller (a sync file's), for the conformance runner, which plays that
/// caller. `None` for a negative value.
pub(crate) fn own_fd(fd: i32) -> Option<std::os::fd::OwnedFd> {
    if fd < 0 {
        return None;
    }
    // SAFETY: the caller passes a descriptor `D3DKMTCreateSyncFile` just
    // returned to it, which it owns and nothing else closes.
    Some(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}
