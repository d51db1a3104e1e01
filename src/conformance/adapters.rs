//! Conformance scenarios and raw calls: Adapters, devices, VidPn ownership and occlusion (WINE #8-#41).
//! The rows are in `fixtures/conformance/adapters.tsv`.

use core::ffi::c_void;
use core::mem::offset_of;

use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::HANDLE;

use super::{Check, Ctx, Scenario, bytes_of};
use crate::abi::exports::{
    D3DKMTCheckOcclusion, D3DKMTCheckVidPnExclusiveOwnership, D3DKMTCloseAdapter, D3DKMTDestroyDevice,
    D3DKMTOpenAdapterFromDeviceName, D3DKMTOpenAdapterFromGdiDisplayName, D3DKMTOpenAdapterFromHdc,
    D3DKMTQueryAdapterInfo, D3DKMTQueryVideoMemoryInfo, D3DKMTSetVidPnSourceOwner, D3DKMTSetVidPnSourceOwner1,
};
use crate::adapter::{DEVINTERFACE_DISPLAY_ADAPTER, DISPLAY_DEVICE_ARRIVAL};
use crate::{AdapterConfig, KernelConfig, LocalHandle, Luid, NtStatus, OutputConfig};

/// The scenario called `name`, if this area has it.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    gdi_scenario(name)
        .or_else(|| query_scenario(name))
        .or_else(|| vidpn_scenario(name))
        .or_else(|| occlusion_scenario(name))
}

/// Calls `entry` with the raw argument pointer `p` (NULL or a 1024-byte
/// buffer), if it is an entry point of this area.
pub(super) fn raw_call(entry: &str, p: *mut c_void) -> Option<i32> {
    Some(match entry {
        "D3DKMTOpenAdapterFromGdiDisplayName" => D3DKMTOpenAdapterFromGdiDisplayName(p.cast()),
        "D3DKMTOpenAdapterFromDeviceName" => D3DKMTOpenAdapterFromDeviceName(p.cast()),
        "D3DKMTOpenAdapterFromHdc" => D3DKMTOpenAdapterFromHdc(p.cast()),
        "D3DKMTQueryAdapterInfo" => D3DKMTQueryAdapterInfo(p.cast()),
        "D3DKMTQueryVideoMemoryInfo" => D3DKMTQueryVideoMemoryInfo(p.cast()),
        "D3DKMTSetVidPnSourceOwner" => D3DKMTSetVidPnSourceOwner(p.cast()),
        "D3DKMTSetVidPnSourceOwner1" => D3DKMTSetVidPnSourceOwner1(p.cast()),
        "D3DKMTCheckVidPnExclusiveOwnership" => D3DKMTCheckVidPnExclusiveOwnership(p.cast()),
        "D3DKMTCheckOcclusion" => D3DKMTCheckOcclusion(p.cast()),
        _ => return None,
    })
}

/// Runs `f` in a fresh kernel built from `config`, bound to its process `a`.
fn in_kernel(config: KernelConfig, f: impl FnOnce(&Ctx) -> NtStatus) -> NtStatus {
    let ctx = Ctx::new(config);
    let status = {
        let _bound = ctx.a.enter();
        f(&ctx)
    };
    ctx.a.exit();
    ctx.b.exit();
    status
}

/// A kernel whose one adapter has two sources: `\\.\DISPLAY1` attached on
/// source 0 and `\\.\DISPLAY2` detached on source 1.
fn one_attached_one_detached() -> KernelConfig {
    let mut config = KernelConfig::default();
    let adapter = &mut config.adapters[0];
    adapter.num_sources = 2;
    adapter.outputs.push(OutputConfig { gdi_name: None, attached: false, source: 1 });
    config
}

/// A kernel with two monitors: a second adapter with its own attached output.
fn two_monitors() -> KernelConfig {
    let mut config = KernelConfig::default();
    config.adapters.push(AdapterConfig::new(Luid { low: 0x5678, high: 0 }));
    config
}

fn is_local_handle(h: u32) -> bool {
    h != 0 && h & 0xC000_0000 != 0 && h & 0x3F == 0
}

fn gdi_args(name: &str) -> D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME {
    let mut args = D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME {
        hAdapter: super::JUNK,
        VidPnSourceId: super::JUNK,
        ..Default::default()
    };
    for (slot, unit) in args.DeviceName.iter_mut().zip(name.encode_utf16()) {
        *slot = unit;
    }
    args
}

/// Opens `name` by GDI name; on failure checks the struct is untouched.
fn open_gdi(c: &mut Check<'_>, name: &str) -> (NtStatus, D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME) {
    let mut args = gdi_args(name);
    let before = bytes_of(&args);
    let status = NtStatus(D3DKMTOpenAdapterFromGdiDisplayName(&mut args));
    if status.is_err() {
        c.that(bytes_of(&args) == before, "a failed open changed the struct");
    }
    (status, args)
}

fn close(adapter: u32) -> NtStatus {
    NtStatus(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: adapter }))
}

/// The device-interface path of class `class` naming the kernel's first
/// adapter.
fn device_path(ctx: &Ctx, class: &str) -> Vec<u16> {
    let handle = ctx.adapter();
    let config = ctx.a.adapter_config(LocalHandle(handle)).expect("just opened");
    close(handle).unwrap();
    let instance = config.device_instance.expect("the kernel sets it");
    format!("\\\\?\\{instance}#{class}").encode_utf16().chain([0]).collect()
}

fn open_device_name(c: &mut Check<'_>, path: &[u16]) -> (NtStatus, D3DKMT_OPENADAPTERFROMDEVICENAME) {
    let mut args =
        D3DKMT_OPENADAPTERFROMDEVICENAME { pDeviceName: path.as_ptr(), hAdapter: super::JUNK, ..Default::default() };
    let before = bytes_of(&args);
    let status = NtStatus(D3DKMTOpenAdapterFromDeviceName(&mut args));
    if status.is_err() {
        c.that(bytes_of(&args) == before, "a failed open changed the struct");
    }
    (status, args)
}

/// Scenarios of `OpenAdapterFromGdiDisplayName`, `FromDeviceName`, `FromHdc`.
fn gdi_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "gdi_open_display1" => |ctx, c| {
            let (status, args) = open_gdi(c, "\\\\.\\DISPLAY1");
            if status.is_ok() {
                c.that(is_local_handle(args.hAdapter), format!("hAdapter {:#x} is not a local handle", args.hAdapter));
                c.that(args.AdapterLuid.LowPart == ctx.luid().LowPart, "AdapterLuid is not the adapter's");
                c.that(args.AdapterLuid.LowPart != 0 || args.AdapterLuid.HighPart != 0, "AdapterLuid is zero");
                c.that(args.VidPnSourceId == 0, format!("VidPnSourceId {}", args.VidPnSourceId));
                c.that(close(args.hAdapter).is_ok(), "closing the opened adapter failed");
            }
            status
        },
        "gdi_open_ignores_case" => |_, c| {
            let (status, args) = open_gdi(c, "\\\\.\\display1");
            if status.is_ok() {
                c.that(close(args.hAdapter).is_ok(), "closing the opened adapter failed");
            }
            status
        },
        "gdi_open_unknown_name" => |_, c| open_gdi(c, "\\\\.\\DISPLAY9").0,
        "gdi_open_unterminated" => |_, c| {
            let mut args = gdi_args("");
            args.DeviceName = [u16::from(b'A'); 32];
            let before = bytes_of(&args);
            let status = NtStatus(D3DKMTOpenAdapterFromGdiDisplayName(&mut args));
            c.that(bytes_of(&args) == before, "a failed open changed the struct");
            status
        },
        "gdi_open_detached" => |_, c| {
            in_kernel(one_attached_one_detached(), |_| {
                let (attached, args) = open_gdi(c, "\\\\.\\DISPLAY1");
                c.that(attached.is_ok(), format!("the attached output: {attached}"));
                let _ = close(args.hAdapter);
                open_gdi(c, "\\\\.\\DISPLAY2").0
            })
        },
        "gdi_open_second_source" => |_, c| {
            let mut config = one_attached_one_detached();
            config.adapters[0].outputs[1].attached = true;
            in_kernel(config, |_| {
                let (status, args) = open_gdi(c, "\\\\.\\DISPLAY2");
                if status.is_ok() {
                    c.that(args.VidPnSourceId == 1, format!("VidPnSourceId {}", args.VidPnSourceId));
                    let _ = close(args.hAdapter);
                }
                status
            })
        },
        "device_name_arrival" => |ctx, c| {
            let path = device_path(ctx, DISPLAY_DEVICE_ARRIVAL);
            let (status, args) = open_device_name(c, &path);
            if status.is_ok() {
                c.that(is_local_handle(args.hAdapter), format!("hAdapter {:#x} is not a local handle", args.hAdapter));
                let luid = ctx.luid();
                c.that(
                    args.AdapterLuid.LowPart == luid.LowPart && args.AdapterLuid.HighPart == luid.HighPart,
                    "AdapterLuid is not the adapter's",
                );
                c.that(close(args.hAdapter).is_ok(), "closing the opened adapter failed");
            }
            status
        },
        "device_name_upper_case" => |ctx, c| {
            let path: Vec<u16> = String::from_utf16_lossy(&device_path(ctx, DISPLAY_DEVICE_ARRIVAL))
                .to_uppercase()
                .encode_utf16()
                .collect();
            let (status, args) = open_device_name(c, &path);
            if status.is_ok() {
                let _ = close(args.hAdapter);
            }
            status
        },
        "device_name_adapter_interface" => {
            |ctx, c| open_device_name(c, &device_path(ctx, DEVINTERFACE_DISPLAY_ADAPTER)).0
        }
        "device_name_unknown_instance" => |_, c| {
            let path: Vec<u16> =
                format!("\\\\?\\PCI#VEN_FFFF&DEV_FFFF#0#{DISPLAY_DEVICE_ARRIVAL}").encode_utf16().chain([0]).collect();
            open_device_name(c, &path).0
        },
        "device_name_too_long" => |_, c| {
            let path: Vec<u16> = std::iter::repeat_n(u16::from(b'x'), 4096).chain([0]).collect();
            open_device_name(c, &path).0
        },
        "hdc_not_emulated" => |_, c| {
            let mut args = D3DKMT_OPENADAPTERFROMHDC { hDc: 0x1234 as _, ..Default::default() };
            let before = bytes_of(&args);
            let status = NtStatus(D3DKMTOpenAdapterFromHdc(&mut args));
            c.that(bytes_of(&args) == before, "a failed open changed the struct");
            status
        },
        _ => return None,
    })
}

/// Queries `ty` on the kernel's first adapter into `buffer` (its whole
/// length); checks the buffer is untouched on failure.
fn query(ctx: &Ctx, c: &mut Check<'_>, ty: KMTQUERYADAPTERINFOTYPE, buffer: &mut [u8]) -> NtStatus {
    let adapter = ctx.adapter();
    let before = buffer.to_vec();
    let mut args = D3DKMT_QUERYADAPTERINFO {
        hAdapter: adapter,
        Type: ty,
        pPrivateDriverData: buffer.as_mut_ptr().cast(),
        PrivateDriverDataSize: buffer.len() as u32,
    };
    let status = NtStatus(D3DKMTQueryAdapterInfo(&mut args));
    if status.is_err() {
        c.that(buffer == before.as_slice(), "a failed query changed the buffer");
    }
    let _ = close(adapter);
    status
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn utf16_prefix(b: &[u8], units: usize) -> String {
    let v: Vec<u16> = b.chunks_exact(2).take(units).map(|p| u16::from_ne_bytes([p[0], p[1]])).collect();
    let end = v.iter().position(|&u| u == 0).unwrap_or(v.len());
    String::from_utf16_lossy(&v[..end])
}

fn video_memory_args(adapter: u32, process: usize, group: i32) -> D3DKMT_QUERYVIDEOMEMORYINFO {
    D3DKMT_QUERYVIDEOMEMORYINFO {
        hProcess: process as HANDLE,
        hAdapter: adapter,
        MemorySegmentGroup: group,
        Budget: u64::MAX,
        CurrentUsage: u64::MAX,
        CurrentReservation: u64::MAX,
        AvailableForReservation: u64::MAX,
        PhysicalAdapterIndex: 0,
    }
}

fn video_memory(c: &mut Check<'_>, mut args: D3DKMT_QUERYVIDEOMEMORYINFO) -> NtStatus {
    let before = bytes_of(&args);
    let status = NtStatus(D3DKMTQueryVideoMemoryInfo(&mut args));
    if status.is_err() {
        c.that(bytes_of(&args) == before, "a failed query changed the struct");
    }
    status
}

/// Scenarios of `QueryAdapterInfo` and `QueryVideoMemoryInfo`.
fn query_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "qai_null_private_data" => |ctx, c| {
            let mut args = D3DKMT_QUERYADAPTERINFO {
                hAdapter: ctx.adapter(),
                Type: KMTQAITYPE_DRIVERVERSION,
                pPrivateDriverData: core::ptr::null_mut(),
                PrivateDriverDataSize: 4,
            };
            let before = bytes_of(&args);
            let status = NtStatus(D3DKMTQueryAdapterInfo(&mut args));
            c.that(bytes_of(&args) == before, "a failed query changed the struct");
            status
        },
        "qai_one_byte_short" => |ctx, c| query(ctx, c, KMTQAITYPE_DRIVERVERSION, &mut [0x5A; 3]),
        "qai_one_byte_short_bool" => |ctx, c| query(ctx, c, KMTQAITYPE_CHECKDRIVERUPDATESTATUS, &mut [0x5A; 3]),
        "qai_one_byte_long" => |ctx, c| query(ctx, c, KMTQAITYPE_DRIVERVERSION, &mut [0x5A; 5]),
        "qai_check_driver_update" => |ctx, c| {
            let mut b = [0x5A; 4];
            let status = query(ctx, c, KMTQAITYPE_CHECKDRIVERUPDATESTATUS, &mut b);
            c.that(u32_at(&b, 0) == 0, format!("CHECKDRIVERUPDATESTATUS {:#x}, want FALSE", u32_at(&b, 0)));
            status
        },
        "qai_driver_version" => |ctx, c| {
            let mut b = [0; 4];
            let status = query(ctx, c, KMTQAITYPE_DRIVERVERSION, &mut b);
            let v = u32_at(&b, 0) as i32;
            c.that(v >= KMT_DRIVERVERSION_WDDM_1_3, format!("DRIVERVERSION {v} is below WDDM 1.3"));
            c.that(v == KMT_DRIVERVERSION_WDDM_3_1, format!("DRIVERVERSION {v}, want the default WDDM 3.1"));
            status
        },
        "qai_hwdrm_support" => |ctx, c| {
            let mut b = [0x5A; 1];
            let status = query(ctx, c, KMTQAITYPE_HWDRM_SUPPORT, &mut b);
            c.that(b[0] == 1, format!("HWDRM Supported {}, want TRUE", b[0]));
            status
        },
        "qai_adapter_type" => |ctx, c| {
            let mut b = [0x5A; 4];
            let status = query(ctx, c, KMTQAITYPE_ADAPTERTYPE, &mut b);
            c.that(u32_at(&b, 0) == 0b11, format!("ADAPTERTYPE {:#x}, want render and display", u32_at(&b, 0)));
            status
        },
        "qai_segment_size" => |ctx, c| {
            let mut b = [0x5A; 24];
            let status = query(ctx, c, KMTQAITYPE_GETSEGMENTSIZE, &mut b);
            c.that(u64_at(&b, 0) == 1 << 30, "DedicatedVideoMemorySize is not the default 1 GiB");
            c.that(u64_at(&b, 8) == 0, "DedicatedSystemMemorySize is not 0");
            c.that(u64_at(&b, 16) == 4 << 30, "SharedSystemMemorySize is not the default 4 GiB");
            status
        },
        "qai_device_ids" => |ctx, c| {
            let mut b = [0; 28];
            let status = query(ctx, c, KMTQAITYPE_PHYSICALADAPTERDEVICEIDS, &mut b);
            c.that(u32_at(&b, 4) == 0x1414 && u32_at(&b, 8) == 0x008C, "VendorID/DeviceID are not the defaults");
            status
        },
        "qai_device_ids_bad_index" => |ctx, c| {
            let mut b = [0; 28];
            b[0] = 1;
            query(ctx, c, KMTQAITYPE_PHYSICALADAPTERDEVICEIDS, &mut b)
        },
        "qai_adapter_address" => |ctx, c| query(ctx, c, KMTQAITYPE_ADAPTERADDRESS, &mut [0x5A; 12]),
        "qai_adapter_guid" => |ctx, c| {
            let mut b = [0; 16];
            let status = query(ctx, c, KMTQAITYPE_ADAPTERGUID, &mut b);
            c.that(b != [0; 16], "ADAPTERGUID is all zero");
            status
        },
        "qai_driver_description" => |ctx, c| {
            let mut b = vec![0x5A; 8192];
            let status = query(ctx, c, KMTQAITYPE_DRIVER_DESCRIPTION, &mut b);
            let text = utf16_prefix(&b, 4096);
            c.that(text == "d3dkmt-emu virtual adapter", format!("DriverDescription {text:?}"));
            status
        },
        "qai_registry_info" => |ctx, c| {
            let mut b = vec![0x5A; 2080];
            let status = query(ctx, c, KMTQAITYPE_ADAPTERREGISTRYINFO, &mut b);
            let text = utf16_prefix(&b, 260);
            c.that(text == "d3dkmt-emu virtual adapter", format!("AdapterString {text:?}"));
            status
        },
        "qai_wddm_2_7_caps" => |ctx, c| {
            let mut b = [0x5A; 4];
            let status = query(ctx, c, KMTQAITYPE_WDDM_2_7_CAPS, &mut b);
            c.that(u32_at(&b, 0) == 0, "WDDM_2_7_CAPS is not the default 0");
            status
        },
        "qai_umd_private" => |_, c| {
            let mut config = KernelConfig::default();
            config.adapters[0].umd_private = b"UMD-BLOB".to_vec();
            in_kernel(config, |ctx| {
                let mut b = [0; 8];
                let status = query(ctx, c, KMTQAITYPE_UMDRIVERPRIVATE, &mut b);
                c.that(&b == b"UMD-BLOB", "UMDRIVERPRIVATE is not the configured blob");
                let short = query(ctx, c, KMTQAITYPE_UMDRIVERPRIVATE, &mut [0; 7]);
                c.that(short.is_err(), "a short blob buffer passed");
                status
            })
        },
        "qai_unemulated_type" => |ctx, c| query(ctx, c, KMTQAITYPE_UMDRIVERNAME, &mut [0x5A; 64]),
        "qai_registry_store_path" => |ctx, c| {
            // The documented protocol: the bare struct overflows (success,
            // Status BUFFER_OVERFLOW, OutputValueSize); grown, it fits.
            let size = size_of::<D3DDDI_QUERYREGISTRY_INFO>();
            let (status_at, size_at) =
                (offset_of!(D3DDDI_QUERYREGISTRY_INFO, Status), offset_of!(D3DDDI_QUERYREGISTRY_INFO, OutputValueSize));
            let mut b = vec![0u8; size];
            b[..4].copy_from_slice(&D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH.to_ne_bytes());
            let status = query(ctx, c, KMTQAITYPE_QUERYREGISTRY, &mut b);
            c.that(
                u32_at(&b, status_at) == D3DDDI_QUERYREGISTRY_STATUS_BUFFER_OVERFLOW as u32,
                "Status not BUFFER_OVERFLOW",
            );
            let needed = u32_at(&b, size_at) as usize;
            c.that(needed > 2 && needed % 2 == 0, format!("OutputValueSize {needed}"));
            b.resize(size + needed, 0);
            let status2 = query(ctx, c, KMTQAITYPE_QUERYREGISTRY, &mut b);
            c.that(status2.is_ok(), "the grown query failed");
            c.that(u32_at(&b, status_at) == D3DDDI_QUERYREGISTRY_STATUS_SUCCESS as u32, "Status not SUCCESS");
            let output = offset_of!(D3DDDI_QUERYREGISTRY_INFO, Anonymous);
            let units: Vec<u16> =
                b[output..output + needed].chunks_exact(2).map(|u| u16::from_ne_bytes([u[0], u[1]])).collect();
            c.that(units.last() == Some(&0), "path not NUL-terminated");
            c.that(String::from_utf16_lossy(&units).contains("\\FileRepository\\"), "not a driver store path");
            status
        },
        "qai_registry_short" => |ctx, c| {
            let mut b = vec![0x5Au8; size_of::<D3DDDI_QUERYREGISTRY_INFO>() - 1];
            b[..4].copy_from_slice(&D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH.to_ne_bytes());
            query(ctx, c, KMTQAITYPE_QUERYREGISTRY, &mut b)
        },
        "qai_registry_value_type" => |ctx, c| {
            let mut b = vec![0u8; size_of::<D3DDDI_QUERYREGISTRY_INFO>() + 512];
            b[..4].copy_from_slice(&D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH.to_ne_bytes());
            let at = offset_of!(D3DDDI_QUERYREGISTRY_INFO, ValueType);
            b[at..at + 4].copy_from_slice(&1u32.to_ne_bytes());
            query(ctx, c, KMTQAITYPE_QUERYREGISTRY, &mut b)
        },
        "qai_unknown_type" => |ctx, c| query(ctx, c, 0x7FFF, &mut [0x5A; 4]),
        "vmi_current_process" => |ctx, c| {
            let adapter = ctx.adapter();
            let mut worst = NtStatus::SUCCESS;
            for process in [0usize, usize::MAX] {
                for group in [D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL] {
                    let mut args = video_memory_args(adapter, process, group);
                    let status = NtStatus(D3DKMTQueryVideoMemoryInfo(&mut args));
                    if status.is_err() {
                        worst = status;
                        continue;
                    }
                    let what = format!("hProcess {process:#x}, group {group}");
                    c.that(args.Budget >= args.AvailableForReservation, format!("{what}: Budget < Available"));
                    c.that(args.CurrentUsage <= args.Budget, format!("{what}: CurrentUsage > Budget"));
                    c.that(args.CurrentReservation == 0, format!("{what}: CurrentReservation != 0"));
                    c.that(args.Budget > 0, format!("{what}: Budget 0 with the default segment sizes"));
                }
            }
            worst
        },
        "vmi_bogus_process" => |ctx, c| video_memory(c, video_memory_args(ctx.adapter(), 0xdead_beef, 0)),
        "vmi_bad_adapter" => |_, c| video_memory(c, video_memory_args(0xdead_beef, 0, 0)),
        "vmi_physical_adapter_99" => |ctx, c| {
            let mut args = video_memory_args(ctx.adapter(), 0, 0);
            args.PhysicalAdapterIndex = 99;
            video_memory(c, args)
        },
        "vmi_group_beyond_non_local" => {
            |ctx, c| video_memory(c, video_memory_args(ctx.adapter(), 0, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL + 1))
        }
        _ => return None,
    })
}

/// `SetVidPnSourceOwner` of one source, or an unset with `None`.
fn set_owner(device: u32, request: Option<(D3DKMT_VIDPNSOURCEOWNER_TYPE, u32)>) -> NtStatus {
    let (ty, id) = request.unwrap_or((0, 0));
    let mut args = D3DKMT_SETVIDPNSOURCEOWNER { hDevice: device, ..Default::default() };
    if request.is_some() {
        args.pType = &ty;
        args.pVidPnSourceId = &id;
        args.VidPnSourceCount = 1;
    }
    NtStatus(D3DKMTSetVidPnSourceOwner(&args))
}

fn own(device: u32, ty: D3DKMT_VIDPNSOURCEOWNER_TYPE) -> NtStatus {
    set_owner(device, Some((ty, 0)))
}

fn check_owner(adapter: u32) -> NtStatus {
    NtStatus(D3DKMTCheckVidPnExclusiveOwnership(&D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP {
        hAdapter: adapter,
        VidPnSourceId: 0,
    }))
}

/// Asserts a setup step gave `want`.
fn step(c: &mut Check<'_>, what: &str, got: NtStatus, want: NtStatus) {
    c.that(got == want, format!("{what}: {got}, expected {want}"));
}

const EXCLUSIVE: i32 = D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVE;
const EMULATED: i32 = D3DKMT_VIDPNSOURCEOWNER_EMULATED;
const SHARED: i32 = D3DKMT_VIDPNSOURCEOWNER_SHARED;
const UNOWNED: i32 = D3DKMT_VIDPNSOURCEOWNER_UNOWNED;
const OK: NtStatus = NtStatus::SUCCESS;
const OCCLUDED: NtStatus = NtStatus::GRAPHICS_PRESENT_OCCLUDED;

/// Scenarios of VidPn source ownership (WINE #32-#38).
fn vidpn_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "vidpn_shared_in_use" => |ctx, _| own(ctx.device(), SHARED),
        "vidpn_exclusive_gdi" => |ctx, _| own(ctx.device(), D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVEGDI),
        "vidpn_type_above_emulated" => |ctx, _| own(ctx.device(), EMULATED + 1),
        "vidpn_bad_source" => |ctx, _| set_owner(ctx.device(), Some((EXCLUSIVE, 7))),
        "vidpn_null_arrays" => |ctx, _| {
            let args = D3DKMT_SETVIDPNSOURCEOWNER { hDevice: ctx.device(), VidPnSourceCount: 1, ..Default::default() };
            NtStatus(D3DKMTSetVidPnSourceOwner(&args))
        },
        "vidpn_exclusive_occludes" => |ctx, c| {
            step(c, "EXCLUSIVE", own(ctx.device(), EXCLUSIVE), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_emulated_unoccluded" => |ctx, c| {
            step(c, "EMULATED", own(ctx.device(), EMULATED), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_unowned" => |ctx, c| {
            step(c, "UNOWNED", own(ctx.device(), UNOWNED), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_unset_releases" => |ctx, c| {
            let device = ctx.device();
            step(c, "EXCLUSIVE", own(device, EXCLUSIVE), OK);
            step(c, "unset", set_owner(device, None), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_exclusive_then_shared" => |ctx, c| {
            let device = ctx.device();
            step(c, "EXCLUSIVE", own(device, EXCLUSIVE), OK);
            own(device, SHARED)
        },
        "vidpn_exclusive_then_emulated" => |ctx, c| {
            let device = ctx.device();
            step(c, "EXCLUSIVE", own(device, EXCLUSIVE), OK);
            let status = own(device, EMULATED);
            step(c, "still occluded", check_owner(ctx.adapter()), OCCLUDED);
            status
        },
        "vidpn_emulated_then_exclusive" => |ctx, c| {
            let device = ctx.device();
            step(c, "EMULATED", own(device, EMULATED), OK);
            own(device, EXCLUSIVE)
        },
        "vidpn_repeat" => |ctx, c| {
            let (d1, d2) = (ctx.device(), ctx.device());
            step(c, "EXCLUSIVE", own(d1, EXCLUSIVE), OK);
            step(c, "EMULATED on device 2", own(d2, EMULATED), NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE);
            step(c, "EXCLUSIVE again", own(d1, EXCLUSIVE), OK);
            step(c, "UNOWNED", own(d1, UNOWNED), OK);
            step(c, "EMULATED on device 2", own(d2, EMULATED), OK);
            own(d2, EMULATED)
        },
        "vidpn_unowned_after_exclusive" => |ctx, c| {
            let device = ctx.device();
            step(c, "EXCLUSIVE", own(device, EXCLUSIVE), OK);
            step(c, "occluded", check_owner(ctx.adapter()), OCCLUDED);
            step(c, "UNOWNED", own(device, UNOWNED), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_two_devices_in_use" => |ctx, c| {
            let (d1, d2) = (ctx.device(), ctx.device());
            let in_use = NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE;
            step(c, "device 1 EXCLUSIVE", own(d1, EXCLUSIVE), OK);
            step(c, "device 2 EMULATED", own(d2, EMULATED), in_use);
            step(c, "device 1 UNOWNED", own(d1, UNOWNED), OK);
            step(c, "device 1 EMULATED", own(d1, EMULATED), OK);
            step(c, "device 2 EMULATED", own(d2, EMULATED), in_use);
            own(d2, EXCLUSIVE)
        },
        "vidpn_two_devices_after_unowned" => |ctx, c| {
            let (d1, d2) = (ctx.device(), ctx.device());
            step(c, "device 1 UNOWNED", own(d1, UNOWNED), OK);
            step(c, "device 1 SHARED", own(d1, SHARED), NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE);
            step(c, "device 2 SHARED", own(d2, SHARED), NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE);
            step(c, "device 2 EXCLUSIVE", own(d2, EXCLUSIVE), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_unset_by_non_owner" => |ctx, c| {
            let (d1, d2) = (ctx.device(), ctx.device());
            step(c, "device 1 EXCLUSIVE", own(d1, EXCLUSIVE), OK);
            step(c, "device 2 unset", set_owner(d2, None), OK);
            step(c, "device 2 UNOWNED", own(d2, UNOWNED), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_destroy_owner_releases" => |ctx, c| {
            let (d1, d2) = (ctx.device(), ctx.device());
            step(c, "device 1 EXCLUSIVE", own(d1, EXCLUSIVE), OK);
            step(c, "destroy device 1", NtStatus(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: d1 })), OK);
            step(c, "unoccluded", check_owner(ctx.adapter()), OK);
            own(d2, EXCLUSIVE)
        },
        "vidpn_close_adapter_releases" => |ctx, c| {
            let adapter = ctx.adapter();
            let mut args = D3DKMT_CREATEDEVICE::default();
            args.Anonymous.hAdapter = adapter;
            NtStatus(crate::abi::exports::D3DKMTCreateDevice(&mut args)).unwrap();
            step(c, "EXCLUSIVE", own(args.hDevice, EXCLUSIVE), OK);
            step(c, "close the adapter's only handle", close(adapter), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_other_process_and_exit" => |ctx, c| {
            let device_b = {
                let _b = ctx.b.enter();
                let device = ctx.device();
                step(c, "process b EXCLUSIVE", own(device, EXCLUSIVE), OK);
                device
            };
            let _ = device_b;
            step(c, "process a sees b's EXCLUSIVE", check_owner(ctx.adapter()), OCCLUDED);
            step(c, "process a EXCLUSIVE", own(ctx.device(), EXCLUSIVE), NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE);
            ctx.b.exit();
            check_owner(ctx.adapter())
        },
        "vidpn_owner1" => |ctx, c| {
            let device = ctx.device();
            let (ty, id) = (EXCLUSIVE, 0u32);
            let mut args = D3DKMT_SETVIDPNSOURCEOWNER1 {
                Version0: D3DKMT_SETVIDPNSOURCEOWNER {
                    hDevice: device,
                    pType: &ty,
                    pVidPnSourceId: &id,
                    VidPnSourceCount: 1,
                },
                ..Default::default()
            };
            args.Flags.Anonymous.Value = 1;
            step(c, "SetVidPnSourceOwner1 EXCLUSIVE", NtStatus(D3DKMTSetVidPnSourceOwner1(&args)), OK);
            check_owner(ctx.adapter())
        },
        "vidpn_check_bad_source" => |ctx, _| {
            let args = D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP { hAdapter: ctx.adapter(), VidPnSourceId: 1 };
            NtStatus(D3DKMTCheckVidPnExclusiveOwnership(&args))
        },
        _ => return None,
    })
}

fn check_occlusion(hwnd: usize) -> NtStatus {
    NtStatus(D3DKMTCheckOcclusion(&D3DKMT_CHECKOCCLUSION { hWindow: hwnd as _ }))
}

/// Scenarios of `CheckOcclusion` (WINE #39-#41).
fn occlusion_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "occlusion_visible_window" => |_, _| check_occlusion(0x10010),
        "occlusion_single_monitor_exclusive" => |ctx, c| {
            let device = ctx.device();
            step(c, "EXCLUSIVE", own(device, EXCLUSIVE), OK);
            check_occlusion(0x10010)
        },
        "occlusion_until_released" => |ctx, c| {
            let device = ctx.device();
            step(c, "EXCLUSIVE", own(device, EXCLUSIVE), OK);
            step(c, "occluded while held", check_occlusion(0x10010), OCCLUDED);
            step(c, "UNOWNED", own(device, UNOWNED), OK);
            check_occlusion(0x10010)
        },
        "occlusion_emulated_single_monitor" => |ctx, c| {
            step(c, "EMULATED", own(ctx.device(), EMULATED), OK);
            check_occlusion(0x10010)
        },
        "occlusion_multi_monitor_exclusive" => |_, c| {
            in_kernel(two_monitors(), |ctx| {
                step(c, "EXCLUSIVE", own(ctx.device(), EXCLUSIVE), OK);
                check_occlusion(0x10010)
            })
        },
        "occlusion_detached_output_is_no_monitor" => |_, c| {
            in_kernel(one_attached_one_detached(), |ctx| {
                step(c, "EXCLUSIVE", own(ctx.device(), EXCLUSIVE), OK);
                check_occlusion(0x10010)
            })
        },
        _ => return None,
    })
}
