//! The libdxg (Linux) layouts of the structs that carry `WCHAR` text.
//!
//! Code compiled against libdxg's headers has a 4-byte `WCHAR` (`wchar_t`),
//! so these structs differ from their windows-sys (2-byte) layouts. These
//! are our own `#[repr(C)]` definitions, field for field the Windows structs
//! with `WCHAR` as `u32`; the sizes below are the ones measured with g++ on
//! x86_64 against libdxg's headers (`linux-clients.md`: 4160 and 16384 for
//! the registry info and driver description). Structs without `WCHAR` text
//! are the same on both sides and stay windows-sys's.
//!
//! `libdxg.so`/`libdxcore.so` (built with `--cfg d3dkmt_wchar32`) export the
//! entry points that take these; every other build compiles them too, so
//! the tests of the Windows build cover both layouts (see `crate::wchar`).
#![allow(non_snake_case, reason = "the Windows field names")]

use windows_sys::Win32::Foundation::LUID;

/// `MAX_PATH`, the length of the registry strings.
const MAX_PATH: usize = 260;

/// `D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME` with 4-byte units: 144 bytes
/// (Windows: 80).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct OpenAdapterFromGdiDisplayName {
    /// `[in]` The GDI name, e.g. `\\.\DISPLAY1`, NUL-terminated.
    pub DeviceName: [u32; 32],
    /// `[out]`
    pub hAdapter: u32,
    /// `[out]`
    pub AdapterLuid: LUID,
    /// `[out]`
    pub VidPnSourceId: u32,
}

/// `D3DKMT_OPENADAPTERFROMDEVICENAME` with a `wchar_t` path: the same 24
/// bytes as Windows', but `pDeviceName` points at 4-byte units.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct OpenAdapterFromDeviceName {
    /// `[in]` The device-interface path, NUL-terminated.
    pub pDeviceName: *const u32,
    /// `[out]`
    pub hAdapter: u32,
    /// `[out]`
    pub AdapterLuid: LUID,
}

/// `D3DKMT_ADAPTERREGISTRYINFO` with 4-byte units: 4160 bytes (Windows: 2080).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct AdapterRegistryInfo {
    /// The adapter's name.
    pub AdapterString: [u32; MAX_PATH],
    /// The BIOS string.
    pub BiosString: [u32; MAX_PATH],
    /// The DAC type.
    pub DacType: [u32; MAX_PATH],
    /// The chip type.
    pub ChipType: [u32; MAX_PATH],
}

/// `D3DKMT_DRIVER_DESCRIPTION` with 4-byte units: 16384 bytes (Windows: 8192).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DriverDescription {
    /// The driver's description.
    pub DriverDescription: [u32; 4096],
}

/// The output union of [`QueryRegistryInfo`]; the value starts at its
/// offset and may run past the struct's end into the caller's buffer.
#[repr(C)]
#[derive(Clone, Copy)]
pub union QueryRegistryOutput {
    /// A `REG_DWORD`.
    pub OutputDword: u32,
    /// A `REG_QWORD` (8-byte aligned, as `D3DKMT_ALIGN64`).
    pub OutputQword: u64,
    /// A string or path, in 4-byte units.
    pub OutputString: [u32; 1],
    /// Binary data.
    pub OutputBinary: [u8; 1],
}

/// `D3DDDI_QUERYREGISTRY_INFO` with 4-byte units: 1072 bytes, the value at
/// offset 1064 (Windows: 552 and 544). A variable-size struct: the caller's
/// buffer (`PrivateDriverDataSize`) holds at least this much, and the value
/// may continue past it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct QueryRegistryInfo {
    /// `[in]` A `D3DDDI_QUERYREGISTRY_TYPE`.
    pub QueryType: i32,
    /// `[in]` `D3DDDI_QUERYREGISTRY_FLAGS` bits.
    pub QueryFlags: u32,
    /// `[in]` The registry value's name (registry queries only).
    pub ValueName: [u32; MAX_PATH],
    /// `[in]` The registry value's type; 0 for path queries.
    pub ValueType: u32,
    /// `[in]`
    pub PhysicalAdapterIndex: u32,
    /// `[out]` The value's size in bytes, set even when it does not fit.
    pub OutputValueSize: u32,
    /// `[out]` A `D3DDDI_QUERYREGISTRY_STATUS`.
    pub Status: i32,
    /// `[out]` The value.
    pub Output: QueryRegistryOutput,
}

#[cfg(test)]
mod tests {
    use core::mem::{offset_of, size_of};

    use windows_sys::Wdk::Graphics::Direct3D::*;

    use super::*;

    /// Both layouts of every WCHAR-carrying struct we serve: the Windows
    /// sizes are windows-sys's; the libdxg ones are the measured x86_64 sizes
    /// (`linux-clients.md`) or follow from 4-byte units.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn sizes_and_offsets_of_both_layouts() {
        // The GDI display name.
        assert_eq!(size_of::<D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME>(), 80);
        assert_eq!(offset_of!(D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME, hAdapter), 64);
        assert_eq!(offset_of!(D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME, VidPnSourceId), 76);
        assert_eq!(size_of::<OpenAdapterFromGdiDisplayName>(), 144);
        assert_eq!(offset_of!(OpenAdapterFromGdiDisplayName, hAdapter), 128);
        assert_eq!(offset_of!(OpenAdapterFromGdiDisplayName, AdapterLuid), 132);
        assert_eq!(offset_of!(OpenAdapterFromGdiDisplayName, VidPnSourceId), 140);
        // The device name: same shape, wider units behind the pointer.
        assert_eq!(size_of::<OpenAdapterFromDeviceName>(), size_of::<D3DKMT_OPENADAPTERFROMDEVICENAME>());
        assert_eq!(
            offset_of!(OpenAdapterFromDeviceName, hAdapter),
            offset_of!(D3DKMT_OPENADAPTERFROMDEVICENAME, hAdapter)
        );
        assert_eq!(
            offset_of!(OpenAdapterFromDeviceName, AdapterLuid),
            offset_of!(D3DKMT_OPENADAPTERFROMDEVICENAME, AdapterLuid)
        );
        // Registry info and driver description: measured 4160 and 16384.
        assert_eq!(size_of::<D3DKMT_ADAPTERREGISTRYINFO>(), 2080);
        assert_eq!(size_of::<AdapterRegistryInfo>(), 4160);
        assert_eq!(offset_of!(D3DKMT_ADAPTERREGISTRYINFO, ChipType), 1560);
        assert_eq!(offset_of!(AdapterRegistryInfo, ChipType), 3120);
        assert_eq!(size_of::<D3DKMT_DRIVER_DESCRIPTION>(), 8192);
        assert_eq!(size_of::<DriverDescription>(), 16384);
        // The registry query.
        assert_eq!(size_of::<D3DDDI_QUERYREGISTRY_INFO>(), 552);
        assert_eq!(offset_of!(D3DDDI_QUERYREGISTRY_INFO, ValueType), 528);
        assert_eq!(offset_of!(D3DDDI_QUERYREGISTRY_INFO, OutputValueSize), 536);
        assert_eq!(offset_of!(D3DDDI_QUERYREGISTRY_INFO, Anonymous), 544);
        assert_eq!(size_of::<QueryRegistryInfo>(), 1072);
        assert_eq!(offset_of!(QueryRegistryInfo, ValueType), 1048);
        assert_eq!(offset_of!(QueryRegistryInfo, PhysicalAdapterIndex), 1052);
        assert_eq!(offset_of!(QueryRegistryInfo, OutputValueSize), 1056);
        assert_eq!(offset_of!(QueryRegistryInfo, Status), 1060);
        assert_eq!(offset_of!(QueryRegistryInfo, Output), 1064);
        // The structs with no WCHAR text that libdxg clients pass, at the
        // sizes measured against libdxg's headers: the same as windows-sys's.
        assert_eq!(size_of::<D3DKMT_ADAPTERINFO>(), 20);
        assert_eq!(size_of::<D3DKMT_ENUMADAPTERS2>(), 16);
        assert_eq!(size_of::<D3DKMT_ENUMADAPTERS3>(), 24);
        assert_eq!(size_of::<D3DKMT_QUERYADAPTERINFO>(), 24);
        assert_eq!(size_of::<D3DKMT_CREATEDEVICE>(), 64);
        assert_eq!(size_of::<D3DKMT_CREATESYNCHRONIZATIONOBJECT2>(), 96);
    }

    use crate::abi::adapter::{
        libdxg_OpenAdapterFromDeviceName, libdxg_OpenAdapterFromGdiDisplayName, query_adapter_info_as,
    };
    use crate::abi::exports::{
        D3DKMTCloseAdapter, D3DKMTOpenAdapterFromDeviceName, D3DKMTOpenAdapterFromGdiDisplayName,
        D3DKMTOpenAdapterFromLuid,
    };
    use crate::adapter::{AdapterConfig, DISPLAY_DEVICE_ARRIVAL, Luid};
    use crate::kernel::{Kernel, KernelConfig};
    use crate::process::Process;
    use crate::status::NtStatus;
    use crate::wchar::{Wchar, WideUnit, fixed};

    const LUID_A: Luid = Luid { low: 0x4242, high: 0 };
    const STORE: &str = "C:\\Windows\\System32\\DriverStore\\FileRepository\\emu.inf_amd64_feed";

    fn kernel() -> Kernel {
        let mut adapter = AdapterConfig::new(LUID_A);
        adapter.description = "Fake GPU \u{2122}".to_string();
        adapter.driver_store_path = STORE.to_string();
        Kernel::new(KernelConfig { adapters: vec![adapter], ..Default::default() })
    }

    fn open(process: &Process) -> u32 {
        let _bound = process.enter();
        let mut open =
            D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID { LowPart: LUID_A.low, HighPart: 0 }, hAdapter: 0 };
        assert_eq!(D3DKMTOpenAdapterFromLuid(&mut open), 0);
        open.hAdapter
    }

    /// One QueryAdapterInfo call on `buffer` as a `wide` client.
    fn query(process: &Process, adapter: u32, ty: KMTQUERYADAPTERINFOTYPE, buffer: &mut [u8], wide: Wchar) -> NtStatus {
        let mut args = D3DKMT_QUERYADAPTERINFO {
            hAdapter: adapter,
            Type: ty,
            pPrivateDriverData: buffer.as_mut_ptr().cast(),
            PrivateDriverDataSize: buffer.len() as u32,
        };
        let _bound = process.enter();
        NtStatus(crate::abi::dispatch(crate::support::Entry::D3DKMTQueryAdapterInfo, |p| {
            query_adapter_info_as(p, &mut args, wide)
        }))
    }

    #[test]
    fn registry_info_and_description_in_both_layouts() {
        let kernel = kernel();
        let process = kernel.create_process();
        let adapter = open(&process);
        for (wide, registry, description) in [(Wchar::Utf16, 2080, 8192), (Wchar::Utf32, 4160, 16384)] {
            let mut buffer = vec![0u8; registry];
            assert_eq!(query(&process, adapter, KMTQAITYPE_ADAPTERREGISTRYINFO, &mut buffer, wide), NtStatus::SUCCESS);
            assert_eq!(wide.decode(&buffer[..registry / 4]).as_deref(), Some("Fake GPU \u{2122}"));
            assert_eq!(wide.decode(&buffer[registry / 4..registry / 2]).as_deref(), Some("d3dkmt-emu"));
            assert_eq!(wide.decode(&buffer[3 * registry / 4..]).as_deref(), Some("Fake GPU \u{2122}"), "ChipType");
            // The other layout's size is wrong for this one (WINE #24: sizes are exact).
            let mut wrong = vec![0xA5u8; if registry == 2080 { 4160 } else { 2080 }];
            assert_eq!(
                query(&process, adapter, KMTQAITYPE_ADAPTERREGISTRYINFO, &mut wrong, wide),
                NtStatus::INVALID_PARAMETER
            );
            assert!(wrong.iter().all(|&b| b == 0xA5), "untouched on failure");
            let mut buffer = vec![0u8; description];
            assert_eq!(query(&process, adapter, KMTQAITYPE_DRIVER_DESCRIPTION, &mut buffer, wide), NtStatus::SUCCESS);
            assert_eq!(wide.decode(&buffer).as_deref(), Some("Fake GPU \u{2122}"));
        }
    }

    /// A `D3DDDI_QUERYREGISTRY_INFO` buffer of `len` bytes asking for the
    /// driver store path, in the layout of `wide`.
    fn registry_query(len: usize, query_type: i32, value_type: u32, wide: Wchar) -> Vec<u8> {
        let mut buffer = vec![0u8; len];
        buffer[..4].copy_from_slice(&query_type.to_ne_bytes());
        let at = match wide {
            Wchar::Utf16 => offset_of!(D3DDDI_QUERYREGISTRY_INFO, ValueType),
            Wchar::Utf32 => offset_of!(QueryRegistryInfo, ValueType),
        };
        buffer[at..at + 4].copy_from_slice(&value_type.to_ne_bytes());
        buffer
    }

    fn u32_at(buffer: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(buffer[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn driver_store_path_with_the_overflow_protocol_in_both_layouts() {
        let kernel = kernel();
        let process = kernel.create_process();
        let adapter = open(&process);
        for (wide, size, output, path) in
            [(Wchar::Utf16, 552, 544, STORE), (Wchar::Utf32, 1072, 1064, "/usr/lib/wsl/drivers/emu.inf_amd64_feed")]
        {
            let (output_size, status) = (output - 8, output - 4);
            // 1. The bare struct: the value does not fit; the call succeeds,
            // Status is BUFFER_OVERFLOW and OutputValueSize the bytes needed.
            let mut buffer = registry_query(size, D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH, 0, wide);
            assert_eq!(query(&process, adapter, KMTQAITYPE_QUERYREGISTRY, &mut buffer, wide), NtStatus::SUCCESS);
            assert_eq!(u32_at(&buffer, status) as i32, D3DDDI_QUERYREGISTRY_STATUS_BUFFER_OVERFLOW);
            let needed = u32_at(&buffer, output_size) as usize;
            assert_eq!(needed, (path.chars().count() + 1) * wide.size(), "bytes of the caller's units, NUL included");
            assert!(buffer[output..].iter().all(|&b| b == 0), "no value written on overflow");
            // 2. Grown to the union's offset plus that: the value.
            let mut buffer = registry_query(output + needed, D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH, 0, wide);
            assert_eq!(query(&process, adapter, KMTQAITYPE_QUERYREGISTRY, &mut buffer, wide), NtStatus::SUCCESS);
            assert_eq!(u32_at(&buffer, status) as i32, D3DDDI_QUERYREGISTRY_STATUS_SUCCESS);
            assert_eq!(u32_at(&buffer, output_size) as usize, needed);
            assert_eq!(wide.decode(&buffer[output..]).as_deref(), Some(path));
            // 3. Failures leave the buffer as it was.
            for (mut buffer, expected) in [
                // Smaller than the struct: the documented FAIL case.
                (registry_query(size - 1, D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH, 0, wide), NtStatus::INVALID_PARAMETER),
                // A path query needs ValueType 0.
                (
                    registry_query(size + 256, D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH, 1, wide),
                    NtStatus::INVALID_PARAMETER,
                ),
                (registry_query(size + 256, D3DDDI_QUERYREGISTRY_MAX, 0, wide), NtStatus::INVALID_PARAMETER),
                (registry_query(size + 256, D3DDDI_QUERYREGISTRY_ADAPTERKEY, 4, wide), NtStatus::NOT_IMPLEMENTED),
            ] {
                let before = buffer.clone();
                assert_eq!(query(&process, adapter, KMTQAITYPE_QUERYREGISTRY, &mut buffer, wide), expected);
                assert_eq!(buffer, before);
            }
        }
    }

    #[test]
    fn gdi_and_device_names_in_the_libdxg_layout() {
        let kernel = kernel();
        let process = kernel.create_process();
        let _bound = process.enter();
        let mut args = OpenAdapterFromGdiDisplayName {
            DeviceName: fixed("\\\\.\\DISPLAY1"),
            hAdapter: 0,
            AdapterLuid: LUID { LowPart: 0, HighPart: 0 },
            VidPnSourceId: 7,
        };
        assert_eq!(libdxg_OpenAdapterFromGdiDisplayName(&mut args), 0);
        assert_ne!(args.hAdapter, 0);
        assert_eq!((args.AdapterLuid.LowPart, args.VidPnSourceId), (LUID_A.low, 0));
        assert_eq!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: args.hAdapter }), 0);
        // The 4-byte name read as the Windows layout is "\\" then NUL: no such output.
        let mut as_windows = D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME::default();
        as_windows.DeviceName[..2].copy_from_slice(&[b'\\' as u16, 0]);
        assert_eq!(D3DKMTOpenAdapterFromGdiDisplayName(&mut as_windows), NtStatus::UNSUCCESSFUL.0);
        // Unterminated, and not Unicode: STATUS_UNSUCCESSFUL, untouched (WINE #9-#11).
        for name in [[b'A' as u32; 32], [0xD800; 32]] {
            let mut bad = OpenAdapterFromGdiDisplayName { DeviceName: name, ..args };
            bad.DeviceName[1] = if name[0] == 0xD800 { 0 } else { b'A' as u32 };
            assert_eq!(libdxg_OpenAdapterFromGdiDisplayName(&mut bad), NtStatus::UNSUCCESSFUL.0);
            assert_eq!(bad.hAdapter, args.hAdapter);
        }

        let path: Vec<u32> = u32::encode(&format!("\\\\?\\{}#{DISPLAY_DEVICE_ARRIVAL}", device_instance(&kernel)))
            .into_iter()
            .chain([0])
            .collect();
        let mut args = OpenAdapterFromDeviceName {
            pDeviceName: path.as_ptr(),
            hAdapter: 0,
            AdapterLuid: LUID { LowPart: 0, HighPart: 0 },
        };
        assert_eq!(libdxg_OpenAdapterFromDeviceName(&mut args), 0);
        assert_eq!(args.AdapterLuid.LowPart, LUID_A.low);
        assert_eq!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: args.hAdapter }), 0);
        // The same units through the Windows layout read as UTF-16 "\\" NUL.
        let mut as_windows = D3DKMT_OPENADAPTERFROMDEVICENAME {
            pDeviceName: path.as_ptr().cast(),
            hAdapter: 0,
            AdapterLuid: LUID { LowPart: 0, HighPart: 0 },
        };
        assert_eq!(D3DKMTOpenAdapterFromDeviceName(&mut as_windows), NtStatus::INVALID_PARAMETER.0);
        let mut null = OpenAdapterFromDeviceName { pDeviceName: core::ptr::null(), ..args };
        assert_eq!(libdxg_OpenAdapterFromDeviceName(&mut null), NtStatus::INVALID_PARAMETER.0, "WINE #22");
    }

    fn device_instance(kernel: &Kernel) -> String {
        let process = kernel.create_process();
        let handle = {
            let _bound = process.enter();
            crate::handle::LocalHandle(open(&process))
        };
        process.adapter_config(handle).unwrap().device_instance.unwrap()
    }
}
