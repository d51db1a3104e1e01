//! `D3DKMTShareObjects`.

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Win32::Foundation::{HANDLE, NTSTATUS, UNICODE_STRING};

use super::{dispatch_with, ptr};
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::support::Entry;
use crate::trace::specs::ShareObjectsArgs;
use crate::wchar::Wchar;

/// Decodes `OBJECT_ATTRIBUTES` into an optional name. NULL attributes mean no
/// name. `Length` must be the struct's size; a `RootDirectory` names no
/// directory object here (`STATUS_INVALID_HANDLE`); the name must be a whole
/// number of `WCHAR` units within `MaximumLength`.
pub(crate) fn object_name(attributes: *const OBJECT_ATTRIBUTES) -> KResult<Option<String>> {
    let Some(attributes) = ptr::in_ref(attributes) else { return Ok(None) };
    if attributes.Length as usize != size_of::<OBJECT_ATTRIBUTES>() {
        return Err(KernelError::InvalidParameter("OBJECT_ATTRIBUTES.Length is not its size"));
    }
    if !attributes.RootDirectory.is_null() {
        return Err(KernelError::BadNtHandle(attributes.RootDirectory as usize as u64));
    }
    let Some(name) = ptr::in_ref::<UNICODE_STRING>(attributes.ObjectName) else { return Ok(None) };
    // `Length` counts bytes of the library's WCHAR units (4 in the libdxg
    // build, where `Buffer` is a `wchar_t *`; see crate::wchar).
    let wide = Wchar::NATIVE;
    if name.Length as usize % wide.size() != 0 || name.Length > name.MaximumLength {
        return Err(KernelError::InvalidParameter("malformed UNICODE_STRING"));
    }
    if name.Length == 0 {
        return Ok(None);
    }
    let bytes = ptr::read_bytes(name.Buffer.cast(), name.Length.into())
        .ok_or(KernelError::InvalidParameter("NULL name buffer"))?;
    wide.decode_counted(&bytes).map(Some).ok_or(KernelError::InvalidParameter("name is not valid text"))
}

/// `D3DKMTShareObjects`: see [`crate::Process::share_objects`]. NULL
/// `hObjects` or `phSharedNtHandle`, or `cObjects` outside 1..=3, is
/// `STATUS_INVALID_PARAMETER`.
#[allow(unsafe_code, reason = "an exported C symbol")]
#[unsafe(no_mangle)]
pub extern "system" fn D3DKMTShareObjects(
    count: u32,
    objects: *const u32,
    attributes: *const OBJECT_ATTRIBUTES,
    access: u32,
    out: *mut HANDLE,
) -> NTSTATUS {
    let args = ShareObjectsArgs {
        cObjects: count,
        hObjects: objects,
        pObjectAttributes: attributes,
        dwDesiredAccess: access,
        phSharedNtHandle: out,
    };
    let arg = (&args as *const ShareObjectsArgs).cast();
    dispatch_with(Entry::D3DKMTShareObjects, arg, |process| {
        if out.is_null() {
            return Err(KernelError::InvalidParameter("NULL phSharedNtHandle"));
        }
        if count == 0 || count > 3 {
            return Err(KernelError::InvalidParameter("cObjects must be 1 to 3"));
        }
        let handles: Vec<LocalHandle> = ptr::read_array(objects, count as usize)
            .ok_or(KernelError::InvalidParameter("NULL hObjects"))?
            .into_iter()
            .map(LocalHandle)
            .collect();
        let name = object_name(attributes)?;
        let nt = process.share_objects(&handles, name.as_deref(), access)?;
        ptr::write_out(out, nt.as_ptr());
        Ok(())
    })
}
const _: windows_sys::Wdk::Graphics::Direct3D::PFND3DKMT_SHAREOBJECTS = Some(D3DKMTShareObjects);
