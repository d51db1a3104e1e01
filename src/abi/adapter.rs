//! Adapter exports.

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_ADAPTERINFO, D3DKMT_CLOSEADAPTER, D3DKMT_ENUMADAPTERS2, D3DKMT_ENUMADAPTERS3, D3DKMT_OPENADAPTERFROMLUID,
};
use windows_sys::Win32::Foundation::LUID;

use super::{export, ptr, required, required_ref};
use crate::adapter::{AdapterInfo, EnumFilter, Luid};
use crate::error::KResult;
use crate::handle::LocalHandle;
use crate::process::Process;

pub(crate) fn luid_in(l: &LUID) -> Luid {
    Luid { low: l.LowPart, high: l.HighPart }
}

pub(crate) fn luid_out(l: Luid) -> LUID {
    LUID { LowPart: l.low, HighPart: l.high }
}

/// The shared body of `EnumAdapters2`/`3`: a NULL array asks for the
/// capacity (WINE #17); otherwise open and list (WINE #18, #19).
fn enum_into(process: &Process, filter: EnumFilter, num: &mut u32, array: *mut D3DKMT_ADAPTERINFO) -> KResult<()> {
    if array.is_null() {
        *num = process.kernel_inner().policies.enum_adapters_capacity;
        return Ok(());
    }
    let infos = process.enum_adapters(filter, *num as usize)?;
    let rows: Vec<D3DKMT_ADAPTERINFO> = infos
        .iter()
        .map(|i: &AdapterInfo| D3DKMT_ADAPTERINFO {
            hAdapter: i.handle.0,
            AdapterLuid: luid_out(i.luid),
            NumOfSources: i.num_sources,
            bPrecisePresentRegionsPreferred: 0,
        })
        .collect();
    ptr::write_array(array, &rows);
    *num = rows.len() as u32;
    Ok(())
}

export! {
    /// `D3DKMTEnumAdapters2`: see [`Process::enum_adapters`].
    D3DKMTEnumAdapters2(args: *mut D3DKMT_ENUMADAPTERS2) as PFND3DKMT_ENUMADAPTERS2, |process| {
        let args = required(args)?;
        let mut num = args.NumAdapters;
        enum_into(process, EnumFilter::default(), &mut num, args.pAdapters)?;
        args.NumAdapters = num;
        Ok(())
    }
}

export! {
    /// `D3DKMTEnumAdapters3`: as `EnumAdapters2`, with the compute-only and
    /// display-only filter bits.
    D3DKMTEnumAdapters3(args: *mut D3DKMT_ENUMADAPTERS3) as PFND3DKMT_ENUMADAPTERS3, |process| {
        let args = required(args)?;
        let bits: u64 = ptr::read_prefix(&args.Filter);
        let filter = EnumFilter { include_compute_only: bits & 1 != 0, include_display_only: bits & 2 != 0 };
        let mut num = args.NumAdapters;
        enum_into(process, filter, &mut num, args.pAdapters)?;
        args.NumAdapters = num;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenAdapterFromLuid`: see [`Process::open_adapter_from_luid`].
    D3DKMTOpenAdapterFromLuid(args: *mut D3DKMT_OPENADAPTERFROMLUID) as PFND3DKMT_OPENADAPTERFROMLUID, |process| {
        let args = required(args)?;
        let handle = process.open_adapter_from_luid(luid_in(&args.AdapterLuid))?;
        args.hAdapter = handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTCloseAdapter`: see [`Process::close_adapter`].
    D3DKMTCloseAdapter(args: *const D3DKMT_CLOSEADAPTER) as PFND3DKMT_CLOSEADAPTER, |process| {
        let args = required_ref(args)?;
        process.close_adapter(LocalHandle(args.hAdapter))
    }
}
