//! Adapter exports.

use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::LUID;
use windows_sys::core::{BOOL, GUID};

use super::{export, libdxg_export, linux, ptr, required, required_ref};
use crate::adapter::{AdapterConfig, AdapterInfo, AdapterKind, EnumFilter, Luid, MemoryGroup};
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::policy::{AdapterInfoSize, Policies};
use crate::process::Process;
use crate::wchar::{self, Wchar, WideUnit};

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

/// The longest device-interface path `OpenAdapterFromDeviceName` reads, in
/// UTF-16 units with the NUL; a longer string is `STATUS_INVALID_PARAMETER`.
const MAX_DEVICE_PATH: usize = 1024;

/// A GDI name from `DeviceName` (either `WCHAR` width): the units before
/// the first NUL. No NUL in the 32 units, or invalid text, is
/// `STATUS_UNSUCCESSFUL`, as every bad name is (WINE #9-#11).
fn gdi_name<W: WideUnit>(units: &[W; 32]) -> KResult<String> {
    let len =
        units.iter().position(|&u| u == W::NUL).ok_or(KernelError::Unsuccessful("DeviceName is not NUL-terminated"))?;
    if len == 0 {
        return Err(KernelError::Unsuccessful("empty DeviceName"));
    }
    W::decode_z(&units[..len]).ok_or(KernelError::Unsuccessful("DeviceName is not valid text"))
}

/// The two layouts of `D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME`: windows-sys's
/// and libdxg's ([`linux::OpenAdapterFromGdiDisplayName`]).
pub(crate) trait GdiDisplayNameArgs {
    /// The `WCHAR` unit.
    type Unit: WideUnit;
    /// `DeviceName`.
    fn device_name(&self) -> &[Self::Unit; 32];
    /// Writes `hAdapter`, `AdapterLuid` and `VidPnSourceId`.
    fn set_out(&mut self, adapter: u32, luid: LUID, source: u32);
}

impl GdiDisplayNameArgs for D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME {
    type Unit = u16;
    fn device_name(&self) -> &[u16; 32] {
        &self.DeviceName
    }
    fn set_out(&mut self, adapter: u32, luid: LUID, source: u32) {
        self.hAdapter = adapter;
        self.AdapterLuid = luid;
        self.VidPnSourceId = source;
    }
}

impl GdiDisplayNameArgs for linux::OpenAdapterFromGdiDisplayName {
    type Unit = u32;
    fn device_name(&self) -> &[u32; 32] {
        &self.DeviceName
    }
    fn set_out(&mut self, adapter: u32, luid: LUID, source: u32) {
        self.hAdapter = adapter;
        self.AdapterLuid = luid;
        self.VidPnSourceId = source;
    }
}

/// `D3DKMTOpenAdapterFromGdiDisplayName` in either layout: see
/// [`Process::open_adapter_from_gdi_name`]. Outputs hAdapter, AdapterLuid
/// and VidPnSourceId (WINE #8, #11). A NULL argument is
/// `STATUS_UNSUCCESSFUL`, not INVALID_PARAMETER (WINE #9).
fn open_from_gdi_name<A: GdiDisplayNameArgs>(process: &Process, args: *mut A) -> KResult<()> {
    let args = ptr::in_mut(args).ok_or(KernelError::Unsuccessful("NULL argument"))?;
    let name = gdi_name(args.device_name())?;
    let opened = process.open_adapter_from_gdi_name(&name)?;
    args.set_out(opened.handle.0, luid_out(opened.luid), opened.source);
    Ok(())
}

export! {
    @windows_layout
    /// `D3DKMTOpenAdapterFromGdiDisplayName`, Windows layout: see
    /// `open_from_gdi_name`.
    D3DKMTOpenAdapterFromGdiDisplayName(args: *mut D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME)
        as PFND3DKMT_OPENADAPTERFROMGDIDISPLAYNAME, |process| {
        open_from_gdi_name(process, args)
    }
}

libdxg_export! {
    /// `D3DKMTOpenAdapterFromGdiDisplayName`, libdxg layout (4-byte
    /// `DeviceName` units): as the Windows one.
    libdxg_OpenAdapterFromGdiDisplayName = D3DKMTOpenAdapterFromGdiDisplayName(
        args: *mut linux::OpenAdapterFromGdiDisplayName
    ), |process| {
        open_from_gdi_name(process, args)
    }
}

/// `D3DKMTOpenAdapterFromDeviceName` in either layout (`pDeviceName` of
/// `W` units): see [`Process::open_adapter_from_device_name`]. NULL, a NULL
/// pDeviceName or a path longer than 1023 units is
/// `STATUS_INVALID_PARAMETER` (WINE #22).
fn open_from_device_name<W: WideUnit + ptr::Pod>(
    process: &Process,
    name: *const W,
) -> KResult<(crate::handle::LocalHandle, LUID)> {
    let (units, terminated) =
        ptr::read_wide_z(name, MAX_DEVICE_PATH).ok_or(KernelError::InvalidParameter("NULL pDeviceName"))?;
    if !terminated {
        return Err(KernelError::InvalidParameter("pDeviceName is longer than any device path"));
    }
    let path = W::decode_z(&units).ok_or(KernelError::InvalidParameter("pDeviceName is not valid text"))?;
    let (handle, luid) = process.open_adapter_from_device_name(&path)?;
    Ok((handle, luid_out(luid)))
}

export! {
    @windows_layout
    /// `D3DKMTOpenAdapterFromDeviceName`, Windows layout (UTF-16 path): see
    /// `open_from_device_name`.
    D3DKMTOpenAdapterFromDeviceName(args: *mut D3DKMT_OPENADAPTERFROMDEVICENAME)
        as PFND3DKMT_OPENADAPTERFROMDEVICENAME, |process| {
        let args = required(args)?;
        let (handle, luid) = open_from_device_name(process, args.pDeviceName)?;
        args.hAdapter = handle.0;
        args.AdapterLuid = luid;
        Ok(())
    }
}

libdxg_export! {
    /// `D3DKMTOpenAdapterFromDeviceName`, libdxg layout (`wchar_t` path):
    /// as the Windows one.
    libdxg_OpenAdapterFromDeviceName = D3DKMTOpenAdapterFromDeviceName(
        args: *mut linux::OpenAdapterFromDeviceName
    ), |process| {
        let args = required(args)?;
        let (handle, luid) = open_from_device_name(process, args.pDeviceName)?;
        args.hAdapter = handle.0;
        args.AdapterLuid = luid;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenAdapterFromHdc`: a NULL hDc is `STATUS_INVALID_PARAMETER`
    /// (WINE #13). There are no device contexts here, so any other hDc
    /// answers `STATUS_NOT_IMPLEMENTED`. A NULL argument, which crashes
    /// Windows 10 2004 and later (WINE #12), is `STATUS_INVALID_PARAMETER`.
    D3DKMTOpenAdapterFromHdc(args: *mut D3DKMT_OPENADAPTERFROMHDC) as PFND3DKMT_OPENADAPTERFROMHDC, |_process| {
        let args = required(args)?;
        if args.hDc.is_null() {
            return Err(KernelError::InvalidParameter("NULL hDc"));
        }
        Err(KernelError::NotImplemented("device contexts are not emulated"))
    }
}

/// How big a `D3DKMTQueryAdapterInfo` type's output is.
#[derive(Clone, Copy)]
enum InfoSize {
    /// A fixed-size struct.
    Fixed(usize),
    /// The adapter's `umd_private` blob.
    UmdPrivate,
}

/// One `KMTQUERYADAPTERINFOTYPE` we answer: its output size, and its answer
/// from the adapter's configuration and the caller's buffer (some types
/// read an input field, e.g. `PhysicalAdapterIndex`).
struct InfoRow {
    ty: KMTQUERYADAPTERINFOTYPE,
    size: InfoSize,
    answer: fn(&AdapterConfig, &[u8]) -> KResult<Vec<u8>>,
}

/// The `D3DKMT_ADAPTERTYPE` bits of an adapter kind: `RenderSupported` (bit
/// 0), `DisplaySupported` (bit 1), `ComputeOnly` (bit 11).
fn adapter_type_bits(kind: AdapterKind) -> u32 {
    match kind {
        AdapterKind::Full => 0b11,
        AdapterKind::ComputeOnly => 1 | 1 << 11,
        AdapterKind::DisplayOnly => 0b10,
    }
}

/// The types `D3DKMTQueryAdapterInfo` answers, one row each.
const INFO_TABLE: &[InfoRow] = &[
    InfoRow { ty: KMTQAITYPE_UMDRIVERPRIVATE, size: InfoSize::UmdPrivate, answer: |c, _| Ok(c.umd_private.clone()) },
    InfoRow {
        ty: KMTQAITYPE_GETSEGMENTSIZE,
        size: InfoSize::Fixed(size_of::<D3DKMT_SEGMENTSIZEINFO>()),
        answer: |c, _| {
            Ok(ptr::bytes_of(&D3DKMT_SEGMENTSIZEINFO {
                DedicatedVideoMemorySize: c.segments.dedicated_video,
                DedicatedSystemMemorySize: c.segments.dedicated_system,
                SharedSystemMemorySize: c.segments.shared_system,
            }))
        },
    },
    InfoRow {
        ty: KMTQAITYPE_ADAPTERGUID,
        size: InfoSize::Fixed(size_of::<GUID>()),
        answer: |c, _| {
            // Made from the LUID, so it is unique within the kernel and stable.
            let high = c.luid.high as u32;
            Ok(ptr::bytes_of(&GUID {
                data1: c.luid.low,
                data2: high as u16,
                data3: (high >> 16) as u16,
                data4: *b"d3dkmtem",
            }))
        },
    },
    InfoRow {
        ty: KMTQAITYPE_ADAPTERADDRESS,
        size: InfoSize::Fixed(size_of::<D3DKMT_ADAPTERADDRESS>()),
        answer: |c, _| {
            Ok(ptr::bytes_of(&D3DKMT_ADAPTERADDRESS {
                BusNumber: c.address.bus,
                DeviceNumber: c.address.device,
                FunctionNumber: c.address.function,
            }))
        },
    },
    InfoRow {
        ty: KMTQAITYPE_CHECKDRIVERUPDATESTATUS,
        size: InfoSize::Fixed(size_of::<BOOL>()),
        // No driver update is ever pending (WINE #25).
        answer: |_, _| Ok(0 as BOOL).map(|v| v.to_ne_bytes().to_vec()),
    },
    InfoRow {
        ty: KMTQAITYPE_DRIVERVERSION,
        size: InfoSize::Fixed(size_of::<D3DKMT_DRIVERVERSION>()),
        answer: |c, _| Ok(c.driver_version.to_ne_bytes().to_vec()),
    },
    InfoRow {
        ty: KMTQAITYPE_ADAPTERTYPE,
        size: InfoSize::Fixed(size_of::<D3DKMT_ADAPTERTYPE>()),
        answer: |c, _| Ok(adapter_type_bits(c.kind).to_ne_bytes().to_vec()),
    },
    InfoRow {
        ty: KMTQAITYPE_PHYSICALADAPTERCOUNT,
        size: InfoSize::Fixed(size_of::<u32>()),
        answer: |_, _| Ok(1u32.to_ne_bytes().to_vec()),
    },
    InfoRow {
        ty: KMTQAITYPE_PHYSICALADAPTERDEVICEIDS,
        size: InfoSize::Fixed(size_of::<D3DKMT_QUERY_DEVICE_IDS>()),
        answer: |c, input| {
            let index = u32::from_ne_bytes(input[..4].try_into().expect("the size was checked"));
            if index != 0 {
                return Err(KernelError::InvalidParameter("the adapter has one physical adapter, index 0"));
            }
            let ids = c.ids;
            Ok(ptr::bytes_of(&D3DKMT_QUERY_DEVICE_IDS {
                PhysicalAdapterIndex: 0,
                DeviceIds: D3DKMT_DEVICE_IDS {
                    VendorID: ids.vendor,
                    DeviceID: ids.device,
                    SubVendorID: ids.sub_vendor,
                    SubSystemID: ids.sub_system,
                    RevisionID: ids.revision,
                    BusType: ids.bus_type,
                },
            }))
        },
    },
    InfoRow {
        ty: KMTQAITYPE_HWDRM_SUPPORT,
        size: InfoSize::Fixed(size_of::<D3DKMT_HWDRM_SUPPORT>()),
        answer: |c, _| Ok(vec![c.protected_sessions as u8]),
    },
    InfoRow {
        ty: KMTQAITYPE_WDDM_2_7_CAPS,
        size: InfoSize::Fixed(size_of::<D3DKMT_WDDM_2_7_CAPS>()),
        answer: |c, _| Ok(c.wddm_2_7_caps.to_ne_bytes().to_vec()),
    },
];

/// One `KMTQUERYADAPTERINFOTYPE` whose answer carries `WCHAR` text, so its
/// size and bytes depend on the layout served ([`Wchar`]).
struct WideRow {
    ty: KMTQUERYADAPTERINFOTYPE,
    /// The answer's size in a layout: exactly this (under the
    /// [`AdapterInfoSize`] policy), or, for a variable-size struct, at least.
    size: fn(Wchar) -> usize,
    /// A variable-size struct (`D3DDDI_QUERYREGISTRY_INFO`): any buffer of at
    /// least `size` bytes is accepted, whatever the size policy.
    variable: bool,
    answer: WideAnswer,
}

/// A [`WideRow`]'s answer: from the policies, the adapter's configuration,
/// the caller's buffer and the layout, the bytes to write.
type WideAnswer = fn(&Policies, &AdapterConfig, &[u8], Wchar) -> KResult<Vec<u8>>;

/// The types whose answers carry text, one row each.
const WIDE_TABLE: &[WideRow] = &[
    WideRow {
        ty: KMTQAITYPE_ADAPTERREGISTRYINFO,
        size: |w| match w {
            Wchar::Utf16 => size_of::<D3DKMT_ADAPTERREGISTRYINFO>(),
            Wchar::Utf32 => size_of::<linux::AdapterRegistryInfo>(),
        },
        variable: false,
        answer: |_, c, _, w| {
            Ok(match w {
                Wchar::Utf16 => ptr::bytes_of(&D3DKMT_ADAPTERREGISTRYINFO {
                    AdapterString: wchar::fixed(&c.description),
                    BiosString: wchar::fixed("d3dkmt-emu"),
                    DacType: wchar::fixed("Internal"),
                    ChipType: wchar::fixed(&c.description),
                }),
                Wchar::Utf32 => ptr::bytes_of(&linux::AdapterRegistryInfo {
                    AdapterString: wchar::fixed(&c.description),
                    BiosString: wchar::fixed("d3dkmt-emu"),
                    DacType: wchar::fixed("Internal"),
                    ChipType: wchar::fixed(&c.description),
                }),
            })
        },
    },
    WideRow {
        ty: KMTQAITYPE_DRIVER_DESCRIPTION,
        size: |w| match w {
            Wchar::Utf16 => size_of::<D3DKMT_DRIVER_DESCRIPTION>(),
            Wchar::Utf32 => size_of::<linux::DriverDescription>(),
        },
        variable: false,
        answer: |_, c, _, w| {
            Ok(match w {
                Wchar::Utf16 => {
                    ptr::bytes_of(&D3DKMT_DRIVER_DESCRIPTION { DriverDescription: wchar::fixed(&c.description) })
                }
                Wchar::Utf32 => {
                    ptr::bytes_of(&linux::DriverDescription { DriverDescription: wchar::fixed(&c.description) })
                }
            })
        },
    },
    WideRow {
        ty: KMTQAITYPE_QUERYREGISTRY,
        size: |w| RegistryLayout::of(w).size,
        variable: true,
        answer: query_registry,
    },
];

/// Where the fields of `D3DDDI_QUERYREGISTRY_INFO` are in a layout.
struct RegistryLayout {
    value_type: usize,
    adapter_index: usize,
    output_size: usize,
    status: usize,
    /// The value (the union), which may run past `size`.
    output: usize,
    size: usize,
}

impl RegistryLayout {
    fn of(wide: Wchar) -> RegistryLayout {
        use core::mem::offset_of;
        match wide {
            Wchar::Utf16 => RegistryLayout {
                value_type: offset_of!(D3DDDI_QUERYREGISTRY_INFO, ValueType),
                adapter_index: offset_of!(D3DDDI_QUERYREGISTRY_INFO, PhysicalAdapterIndex),
                output_size: offset_of!(D3DDDI_QUERYREGISTRY_INFO, OutputValueSize),
                status: offset_of!(D3DDDI_QUERYREGISTRY_INFO, Status),
                output: offset_of!(D3DDDI_QUERYREGISTRY_INFO, Anonymous),
                size: size_of::<D3DDDI_QUERYREGISTRY_INFO>(),
            },
            Wchar::Utf32 => RegistryLayout {
                value_type: offset_of!(linux::QueryRegistryInfo, ValueType),
                adapter_index: offset_of!(linux::QueryRegistryInfo, PhysicalAdapterIndex),
                output_size: offset_of!(linux::QueryRegistryInfo, OutputValueSize),
                status: offset_of!(linux::QueryRegistryInfo, Status),
                output: offset_of!(linux::QueryRegistryInfo, Output),
                size: size_of::<linux::QueryRegistryInfo>(),
            },
        }
    }
}

/// `KMTQAITYPE_QUERYREGISTRY`: the buffer is a `D3DDDI_QUERYREGISTRY_INFO`
/// of at least its size (checked by the caller), followed by room for the
/// value. Microsoft documents the protocol:
///
/// - The value fits (from the union's offset to the end of the buffer):
///   `STATUS_SUCCESS`, `Status` SUCCESS, `OutputValueSize` its size in
///   bytes, the value written at the union.
/// - It does not fit: still `STATUS_SUCCESS`, but `Status` BUFFER_OVERFLOW
///   and only `OutputValueSize` set, so the caller can grow the buffer to
///   the union's offset plus that size and ask again.
/// - Any failure returns its status with the buffer untouched (Windows may
///   set `Status` to FAIL; we write nothing on failure).
///
/// `D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH` answers the adapter's
/// `driver_store_path` (for libdxg clients, as libdxg rewrites it; see
/// [`wchar::driver_store_path`]) as a NUL-terminated string of the layout's
/// units; `OutputValueSize` counts those units' bytes, NUL included. A
/// nonzero `ValueType` or `PhysicalAdapterIndex` is
/// `STATUS_INVALID_PARAMETER` (path queries need ValueType 0; the adapter
/// has one physical adapter). Registry values (`SERVICEKEY`, `ADAPTERKEY`)
/// and `DRIVERIMAGEPATH` are not emulated: the unemulated_adapter_info
/// policy's status. Other query types are `STATUS_INVALID_PARAMETER`.
fn query_registry(policies: &Policies, c: &AdapterConfig, input: &[u8], wide: Wchar) -> KResult<Vec<u8>> {
    let l = RegistryLayout::of(wide);
    let u32_at = |at: usize| u32::from_ne_bytes(input[at..at + 4].try_into().expect("the size was checked"));
    if u32_at(l.adapter_index) != 0 {
        return Err(KernelError::InvalidParameter("the adapter has one physical adapter, index 0"));
    }
    let value = match u32_at(0) as D3DDDI_QUERYREGISTRY_TYPE {
        D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH => {
            if u32_at(l.value_type) != 0 {
                return Err(KernelError::InvalidParameter("ValueType must be 0 for a path query"));
            }
            wide.encode_z(&wchar::driver_store_path(&c.driver_store_path, wide))
        }
        D3DDDI_QUERYREGISTRY_SERVICEKEY | D3DDDI_QUERYREGISTRY_ADAPTERKEY | D3DDDI_QUERYREGISTRY_DRIVERIMAGEPATH => {
            return Err(KernelError::Unemulated {
                what: "registry values and the driver image path",
                status: policies.unemulated_adapter_info,
            });
        }
        _ => return Err(KernelError::InvalidParameter("unknown D3DDDI_QUERYREGISTRY_TYPE")),
    };
    let mut out = input.to_vec();
    let mut put = |at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    put(l.output_size, value.len() as u32);
    if l.output + value.len() > input.len() {
        put(l.status, D3DDDI_QUERYREGISTRY_STATUS_BUFFER_OVERFLOW as u32);
        out.truncate(l.size);
    } else {
        put(l.status, D3DDDI_QUERYREGISTRY_STATUS_SUCCESS as u32);
        out[l.output..l.output + value.len()].copy_from_slice(&value);
        out.truncate(l.size.max(l.output + value.len()));
    }
    Ok(out)
}

/// Whether a buffer of `given` bytes is right for an answer of `needed`,
/// under the size policy. An empty buffer never is.
fn size_fits(policy: AdapterInfoSize, given: usize, needed: usize) -> bool {
    let fits = match policy {
        AdapterInfoSize::Exact => given == needed,
        AdapterInfoSize::AtLeast => given >= needed,
    };
    fits && given != 0
}

/// The highest `KMTQUERYADAPTERINFOTYPE` windows-sys names.
const LAST_INFO_TYPE: KMTQUERYADAPTERINFOTYPE = KMTQAITYPE_WDDM_3_1_CAPS;

/// The `D3DKMTQueryAdapterInfo` answer: the bytes to write for `ty` into a
/// buffer of `given` bytes that holds `input`.
///
/// Statuses: `STATUS_INVALID_PARAMETER` for a type no windows-sys constant
/// has, a size the [`AdapterInfoSize`] policy rejects (one byte short always,
/// WINE #24), or a bad input field; the [`Policies::unemulated_adapter_info`]
/// status for a known type we do not answer.
fn query_adapter_info(
    policies: &Policies,
    config: &AdapterConfig,
    ty: KMTQUERYADAPTERINFOTYPE,
    input: &[u8],
    wide: Wchar,
) -> KResult<Vec<u8>> {
    if !(0..=LAST_INFO_TYPE).contains(&ty) {
        return Err(KernelError::InvalidParameter("unknown KMTQUERYADAPTERINFOTYPE"));
    }
    if let Some(row) = WIDE_TABLE.iter().find(|r| r.ty == ty) {
        let needed = (row.size)(wide);
        let fits = if row.variable {
            input.len() >= needed
        } else {
            size_fits(policies.adapter_info_size, input.len(), needed)
        };
        if !fits {
            return Err(KernelError::InvalidParameter("PrivateDriverDataSize does not fit the type"));
        }
        return (row.answer)(policies, config, input, wide);
    }
    let row = INFO_TABLE.iter().find(|r| r.ty == ty).ok_or(KernelError::Unemulated {
        what: "this KMTQUERYADAPTERINFOTYPE",
        status: policies.unemulated_adapter_info,
    })?;
    let needed = match row.size {
        InfoSize::Fixed(n) => n,
        InfoSize::UmdPrivate => config.umd_private.len(),
    };
    if !size_fits(policies.adapter_info_size, input.len(), needed) {
        return Err(KernelError::InvalidParameter("PrivateDriverDataSize does not fit the type"));
    }
    let out = (row.answer)(config, input)?;
    debug_assert_eq!(out.len(), needed, "an info row answered the wrong size");
    Ok(out)
}

/// `D3DKMTQueryAdapterInfo` with the answers laid out for `wide` clients:
/// the export passes [`Wchar::NATIVE`]; the tests pass both.
pub(crate) fn query_adapter_info_as(process: &Process, args: *mut D3DKMT_QUERYADAPTERINFO, wide: Wchar) -> KResult<()> {
    let args = required(args)?;
    if args.pPrivateDriverData.is_null() {
        return Err(KernelError::InvalidParameter("NULL pPrivateDriverData"));
    }
    // Check the handle before reading a buffer whose size may be garbage.
    let adapter = process.adapter(LocalHandle(args.hAdapter))?;
    let size = args.PrivateDriverDataSize;
    if size as usize > size_of::<linux::DriverDescription>().max(MAX_UMD_PRIVATE) {
        return Err(KernelError::InvalidParameter("PrivateDriverDataSize is larger than any answer"));
    }
    let input = ptr::read_bytes(args.pPrivateDriverData, size).expect("checked non-NULL above");
    let out = query_adapter_info(&process.kernel_inner().policies, &adapter.config, args.Type, &input, wide)?;
    ptr::write_bytes(args.pPrivateDriverData, &out);
    Ok(())
}

export! {
    /// `D3DKMTQueryAdapterInfo`: answers the types of two data-driven
    /// tables from the adapter's [`AdapterConfig`] (`INFO_TABLE`, and
    /// `WIDE_TABLE` for the answers with text, laid out for the `WCHAR` width
    /// this library serves). NULL pPrivateDriverData or a wrong size is
    /// `STATUS_INVALID_PARAMETER` (WINE #24); CHECKDRIVERUPDATESTATUS is
    /// FALSE and DRIVERVERSION the configured WDDM version (WINE #25).
    D3DKMTQueryAdapterInfo(args: *mut D3DKMT_QUERYADAPTERINFO) as PFND3DKMT_QUERYADAPTERINFO, |process| {
        query_adapter_info_as(process, args, Wchar::NATIVE)
    }
}

/// The largest `umd_private` blob a query returns; bigger buffers are
/// rejected before they are read.
const MAX_UMD_PRIVATE: usize = 1 << 20;

/// The current-process pseudo-handle, `(HANDLE)-1`.
const CURRENT_PROCESS: usize = usize::MAX;

export! {
    /// `D3DKMTQueryVideoMemoryInfo`: see [`Process::query_video_memory_info`].
    /// hProcess must be NULL or the current-process pseudo-handle (both mean
    /// the caller); any other value is `STATUS_INVALID_HANDLE` (WINE #27:
    /// 0xdeadbeef), as process handles carry no rights to query here.
    D3DKMTQueryVideoMemoryInfo(args: *mut D3DKMT_QUERYVIDEOMEMORYINFO) as PFND3DKMT_QUERYVIDEOMEMORYINFO, |process| {
        let args = required(args)?;
        let h = args.hProcess as usize;
        if h != 0 && h != CURRENT_PROCESS {
            return Err(KernelError::BadNtHandle(h as u64));
        }
        let group = MemoryGroup::from_raw(args.MemorySegmentGroup)?;
        let info = process.query_video_memory_info(LocalHandle(args.hAdapter), args.PhysicalAdapterIndex, group)?;
        args.Budget = info.budget;
        args.CurrentUsage = info.current_usage;
        args.CurrentReservation = info.current_reservation;
        args.AvailableForReservation = info.available_for_reservation;
        Ok(())
    }
}

// The x86_64 sizes `include/d3dkmt_emu.h` asserts for the structs these
// exports and `abi::vidpn` read and write, checked against windows-sys.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME>() == 80);
    assert!(size_of::<D3DKMT_OPENADAPTERFROMDEVICENAME>() == 24);
    assert!(size_of::<D3DKMT_OPENADAPTERFROMHDC>() == 24);
    assert!(size_of::<D3DKMT_QUERYADAPTERINFO>() == 24);
    assert!(size_of::<D3DKMT_QUERYVIDEOMEMORYINFO>() == 56);
    assert!(size_of::<D3DKMT_SETVIDPNSOURCEOWNER>() == 32);
    assert!(size_of::<D3DKMT_SETVIDPNSOURCEOWNER1>() == 40);
    assert!(size_of::<D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP>() == 8);
    assert!(size_of::<D3DKMT_CHECKOCCLUSION>() == 8);
    assert!(size_of::<D3DKMT_SEGMENTSIZEINFO>() == 24);
    assert!(size_of::<D3DKMT_ADAPTERADDRESS>() == 12);
    assert!(size_of::<D3DKMT_ADAPTERREGISTRYINFO>() == 2080);
    assert!(size_of::<D3DKMT_ADAPTERTYPE>() == 4);
    assert!(size_of::<D3DKMT_QUERY_DEVICE_IDS>() == 28);
    assert!(size_of::<D3DKMT_HWDRM_SUPPORT>() == 1);
    assert!(size_of::<D3DKMT_DRIVER_DESCRIPTION>() == 8192);
    assert!(size_of::<D3DKMT_WDDM_2_7_CAPS>() == 4);
    assert!(size_of::<GUID>() == 16);
};
