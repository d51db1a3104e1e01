//! Adapters: `D3DKMTEnumAdapters2`/`3`, `D3DKMTOpenAdapterFromLuid`,
//! `D3DKMTCloseAdapter`.
//!
//! Adapters are configured when the kernel is created and live as long as it.
//! Each open gives the calling process a new local handle that it must close
//! (WINE #18); closing a process's last handle to an adapter destroys the
//! process's devices on it, under [`crate::policy::AdapterClose::DestroyDevices`].

use std::sync::Arc;

use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::policy::AdapterClose;
use crate::process::{LocalEntry, Process, ProcessState};
use crate::sync::Graveyard;

/// A locally unique identifier, as `LUID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Luid {
    /// `LowPart`.
    pub low: u32,
    /// `HighPart`.
    pub high: i32,
}

/// Which adapters `EnumAdapters3` hides unless its filter asks for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AdapterKind {
    /// Render and display: always listed.
    #[default]
    Full,
    /// Compute only: listed with `IncludeComputeOnly`.
    ComputeOnly,
    /// Display only: listed with `IncludeDisplayOnly`.
    DisplayOnly,
}

/// One display output (a VidPn source's monitor) of an adapter, as GDI
/// names it: what `D3DKMTOpenAdapterFromGdiDisplayName` looks up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputConfig {
    /// Its GDI device name, e.g. `\\.\DISPLAY1`. `None` (the default): the
    /// kernel names it `\\.\DISPLAYn`, numbering the unnamed outputs of all
    /// adapters from 1 in configuration order, as Windows numbers displays.
    pub gdi_name: Option<String>,
    /// Whether it is attached to the desktop. Opening a detached output by
    /// name is `STATUS_UNSUCCESSFUL` (WINE #11), and only attached outputs
    /// count as monitors for `D3DKMTCheckOcclusion` (WINE #41).
    pub attached: bool,
    /// The VidPn source it shows; below the adapter's `num_sources`.
    pub source: u32,
}

impl OutputConfig {
    /// An attached output on `source`, named by the kernel.
    pub fn attached(source: u32) -> Self {
        OutputConfig { gdi_name: None, attached: true, source }
    }
}

/// The PCI identity `KMTQAITYPE_PHYSICALADAPTERDEVICEIDS` reports
/// (`D3DKMT_DEVICE_IDS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceIds {
    /// `VendorID`.
    pub vendor: u32,
    /// `DeviceID`.
    pub device: u32,
    /// `SubVendorID`.
    pub sub_vendor: u32,
    /// `SubSystemID`.
    pub sub_system: u32,
    /// `RevisionID`.
    pub revision: u32,
    /// `BusType`.
    pub bus_type: u32,
}

impl Default for DeviceIds {
    /// Microsoft's vendor id (0x1414) and the id of its software "basic
    /// render" adapter (0x008C), so nobody mistakes the fake for real hardware.
    fn default() -> Self {
        DeviceIds { vendor: 0x1414, device: 0x008C, sub_vendor: 0, sub_system: 0, revision: 0, bus_type: 0 }
    }
}

/// Where the adapter sits on the bus (`KMTQAITYPE_ADAPTERADDRESS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PciAddress {
    /// `BusNumber`.
    pub bus: u32,
    /// `DeviceNumber`.
    pub device: u32,
    /// `FunctionNumber`.
    pub function: u32,
}

/// Memory sizes in bytes (`KMTQAITYPE_GETSEGMENTSIZE`); they also set the
/// budgets `D3DKMTQueryVideoMemoryInfo` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentSizes {
    /// `DedicatedVideoMemorySize`: the LOCAL segment group.
    pub dedicated_video: u64,
    /// `DedicatedSystemMemorySize`.
    pub dedicated_system: u64,
    /// `SharedSystemMemorySize`: the NON_LOCAL segment group.
    pub shared_system: u64,
}

impl Default for SegmentSizes {
    /// 1 GiB of video memory, none dedicated in system memory, 4 GiB shared.
    fn default() -> Self {
        SegmentSizes { dedicated_video: 1 << 30, dedicated_system: 0, shared_system: 4 << 30 }
    }
}

/// One adapter of a kernel's configuration. Build it with
/// [`AdapterConfig::new`] and change the fields that matter to the test.
#[derive(Clone, Debug)]
pub struct AdapterConfig {
    /// Its LUID; must be nonzero and unique within the kernel.
    pub luid: Luid,
    /// Whether it supports protected sessions. Without it,
    /// `D3DKMTCreateProtectedSession` answers `STATUS_NOT_SUPPORTED`, and
    /// `KMTQAITYPE_HWDRM_SUPPORT` says FALSE.
    pub protected_sessions: bool,
    /// Its kind, for `EnumAdapters3` filtering and `KMTQAITYPE_ADAPTERTYPE`.
    pub kind: AdapterKind,
    /// `NumOfSources` reported by enumeration: VidPn source ids are
    /// `0..num_sources`.
    pub num_sources: u32,
    /// Its display outputs. Default: one attached output on source 0.
    pub outputs: Vec<OutputConfig>,
    /// The PnP instance part of its device-interface paths, as it appears in
    /// them (`PCI#VEN_...#...`). `None`: the kernel makes one from the
    /// device ids and the adapter's position.
    pub device_instance: Option<String>,
    /// `KMTQAITYPE_DRIVERVERSION`, a `KMT_DRIVERVERSION_*` value. Default
    /// WDDM 3.1 (3100), the newest windows-sys knows.
    pub driver_version: i32,
    /// Its PCI identity.
    pub ids: DeviceIds,
    /// Its bus address.
    pub address: PciAddress,
    /// Its memory sizes.
    pub segments: SegmentSizes,
    /// `KMTQAITYPE_DRIVER_DESCRIPTION` and the `AdapterString` and
    /// `ChipType` of `KMTQAITYPE_ADAPTERREGISTRYINFO` (at most 259 UTF-16
    /// units reach the registry info; longer text is cut).
    pub description: String,
    /// `KMTQAITYPE_UMDRIVERPRIVATE`: the driver's private blob for its
    /// user-mode half, at most 1 MiB (a query never reads a larger buffer).
    /// Default: empty (the type then needs a 0-byte buffer,
    /// which Windows never accepts, so it answers `STATUS_INVALID_PARAMETER`).
    pub umd_private: Vec<u8>,
    /// The bits of `D3DKMT_WDDM_2_7_CAPS` (bit 0 `HwSchSupported`, bit 1
    /// `HwSchEnabled`, bit 2 `HwSchEnabledByDefault`, bit 3
    /// `IndependentVidPnVSyncControl`). Default 0: no hardware scheduling.
    pub wddm_2_7_caps: u32,
    /// Its engines (nodes): a context's `NodeOrdinal` must be below this, or
    /// the create is `STATUS_INVALID_PARAMETER`. Default 2 (a 3D engine and a
    /// copy engine). Every adapter is one physical adapter, so the only
    /// `EngineAffinity` values accepted are 0 and 1.
    pub node_count: u32,
    /// The driver store directory, as a Windows path: the answer to
    /// `KMTQAITYPE_QUERYREGISTRY` with `D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH`.
    /// Clients of `libdxg.so`/`libdxcore.so` see it as libdxg shows it on
    /// WSL, under `/usr/lib/wsl/drivers/` (see [`crate::wchar::driver_store_path`]).
    /// Default: [`DEFAULT_DRIVER_STORE_PATH`].
    pub driver_store_path: String,
}

/// The default driver store directory of an adapter: a `FileRepository`
/// directory named like the ones Windows makes (`<inf>_<arch>_<hash>`).
/// libdxg clients see `/usr/lib/wsl/drivers/d3dkmt_emu.inf_amd64_0000000000000000`.
pub const DEFAULT_DRIVER_STORE_PATH: &str =
    "C:\\Windows\\System32\\DriverStore\\FileRepository\\d3dkmt_emu.inf_amd64_0000000000000000";

impl AdapterConfig {
    /// A full adapter with one source and one attached output, that
    /// supports protected sessions, with the defaults of every other field.
    pub fn new(luid: Luid) -> Self {
        AdapterConfig {
            luid,
            protected_sessions: true,
            kind: AdapterKind::Full,
            num_sources: 1,
            outputs: vec![OutputConfig::attached(0)],
            device_instance: None,
            driver_version: windows_sys::Wdk::Graphics::Direct3D::KMT_DRIVERVERSION_WDDM_3_1,
            ids: DeviceIds::default(),
            address: PciAddress::default(),
            segments: SegmentSizes::default(),
            description: "d3dkmt-emu virtual adapter".to_string(),
            umd_private: Vec::new(),
            wddm_2_7_caps: 0,
            node_count: 2,
            driver_store_path: DEFAULT_DRIVER_STORE_PATH.to_string(),
        }
    }
}

/// The class GUID of the device-interface paths that open an adapter
/// (`GUID_DISPLAY_DEVICE_ARRIVAL`), lower case as it appears in paths.
pub const DISPLAY_DEVICE_ARRIVAL: &str = "{1ca05180-a699-450a-9a0c-de4fbe3ddd89}";
/// The class GUID `GUID_DEVINTERFACE_DISPLAY_ADAPTER`: a path of this class
/// names the adapter too, but does not open it (WINE #23).
pub const DEVINTERFACE_DISPLAY_ADAPTER: &str = "{5b45201d-f2f2-4f3b-85bb-30ff1f953599}";

pub(crate) struct Adapter {
    pub(crate) index: usize,
    /// Its configuration, with every output named and `device_instance` set.
    pub(crate) config: AdapterConfig,
    /// Who owns each of its VidPn sources.
    pub(crate) vidpn: crate::vidpn::VidPn,
    /// Running until the KMD stops it; see [`crate::removal`].
    pub(crate) health: crate::removal::AdapterHealthCell,
}

impl Adapter {
    /// The kernel's adapters from their configurations: names the unnamed
    /// outputs `\\.\DISPLAYn` and gives each adapter a device instance.
    ///
    /// # Panics
    /// If two adapters share a LUID, one has the zero LUID, an output's
    /// source is not below `num_sources`, or two outputs share a GDI name.
    pub(crate) fn build(configs: Vec<AdapterConfig>) -> Vec<Arc<Adapter>> {
        let mut next_display = 1;
        let mut names: Vec<String> = Vec::new();
        let mut adapters = Vec::with_capacity(configs.len());
        for (index, mut config) in configs.into_iter().enumerate() {
            assert!(config.luid != Luid::default(), "adapter {index} has the zero LUID");
            assert!(
                adapters.iter().all(|b: &Arc<Adapter>| b.config.luid != config.luid),
                "adapter {index} repeats LUID {:?}",
                config.luid
            );
            for output in &mut config.outputs {
                assert!(output.source < config.num_sources, "adapter {index}: output source beyond num_sources");
                let name = output.gdi_name.get_or_insert_with(|| {
                    let name = format!("\\\\.\\DISPLAY{next_display}");
                    next_display += 1;
                    name
                });
                assert!(
                    !names.iter().any(|n| n.eq_ignore_ascii_case(name)),
                    "adapter {index}: GDI name {name} is used twice"
                );
                names.push(name.clone());
            }
            let ids = config.ids;
            config.device_instance.get_or_insert_with(|| {
                format!(
                    "PCI#VEN_{:04X}&DEV_{:04X}&SUBSYS_{:04X}{:04X}&REV_{:02X}#4&d3d0e0&0&{:04X}",
                    ids.vendor & 0xFFFF,
                    ids.device & 0xFFFF,
                    ids.sub_system & 0xFFFF,
                    ids.sub_vendor & 0xFFFF,
                    ids.revision & 0xFF,
                    index
                )
            });
            let vidpn = crate::vidpn::VidPn::new(config.num_sources);
            adapters.push(Arc::new(Adapter { index, config, vidpn, health: Default::default() }));
        }
        adapters
    }

    /// The device-interface path of class `class` (one of the GUID strings
    /// above) that names this adapter.
    pub(crate) fn interface_path(&self, class: &str) -> String {
        let instance = self.config.device_instance.as_deref().unwrap_or_default();
        format!("\\\\?\\{instance}#{class}")
    }

    /// Its outputs attached to the desktop.
    pub(crate) fn attached_outputs(&self) -> usize {
        self.config.outputs.iter().filter(|o| o.attached).count()
    }
}

/// What `D3DKMTOpenAdapterFromGdiDisplayName` gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GdiOpen {
    /// A new local handle the caller must close.
    pub handle: LocalHandle,
    /// The adapter's LUID.
    pub luid: Luid,
    /// The VidPn source the output shows.
    pub source: u32,
}

/// One row of an enumeration (`D3DKMT_ADAPTERINFO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdapterInfo {
    /// A newly opened local handle the caller must close.
    pub handle: LocalHandle,
    /// The adapter's LUID.
    pub luid: Luid,
    /// Its number of VidPn sources.
    pub num_sources: u32,
}

/// Which kinds `EnumAdapters3` lists beyond full adapters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnumFilter {
    /// List compute-only adapters.
    pub include_compute_only: bool,
    /// List display-only adapters.
    pub include_display_only: bool,
}

impl ProcessState {
    /// Looks up an adapter handle of this process.
    pub(crate) fn adapter(&self, handle: u32) -> KResult<&Arc<Adapter>> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::Adapter(a)) => Ok(a),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "adapter" }),
        }
    }
}

impl Process {
    /// The adapter an adapter handle of this process names.
    pub(crate) fn adapter(&self, handle: LocalHandle) -> KResult<Arc<Adapter>> {
        Ok(Arc::clone(self.lock_live()?.adapter(handle.0)?))
    }

    /// The configuration (outputs named, device instance set) of the adapter
    /// an adapter handle of this process names.
    pub fn adapter_config(&self, handle: LocalHandle) -> KResult<AdapterConfig> {
        Ok(self.adapter(handle)?.config.clone())
    }

    /// `D3DKMTOpenAdapterFromGdiDisplayName`: a new handle to the adapter
    /// whose output has the GDI name `name`, compared as the kernel's
    /// [`crate::policy::GdiNameCase`] says. An empty name, a name no output
    /// has, and the name of an output not attached to the desktop are all
    /// `STATUS_UNSUCCESSFUL`, not INVALID_PARAMETER (WINE #9-#11).
    pub fn open_adapter_from_gdi_name(&self, name: &str) -> KResult<GdiOpen> {
        let kernel = self.kernel_inner();
        let case = kernel.policies.gdi_name_case;
        let found = kernel.adapters.iter().find_map(|a| {
            a.config
                .outputs
                .iter()
                .find(|o| o.gdi_name.as_deref().is_some_and(|n| case.matches(n, name)))
                .map(|o| (a, o))
        });
        let (adapter, output) = found.ok_or(KernelError::Unsuccessful("no display output has that GDI name"))?;
        if !output.attached {
            return Err(KernelError::Unsuccessful("that display output is not attached to the desktop"));
        }
        let handle = self.open_adapter(adapter)?;
        Ok(GdiOpen { handle, luid: adapter.config.luid, source: output.source })
    }

    /// `D3DKMTOpenAdapterFromDeviceName`: a new handle to the adapter a
    /// device-interface path names, and its LUID.
    ///
    /// The path is `\\?\<instance>#<class GUID>`, compared without regard
    /// to ASCII case (PnP paths are case-insensitive). Only the class
    /// [`DISPLAY_DEVICE_ARRIVAL`] opens the adapter; the adapter-interface
    /// class [`DEVINTERFACE_DISPLAY_ADAPTER`], an unknown instance or a
    /// malformed path is `STATUS_INVALID_PARAMETER` (WINE #22, #23).
    pub fn open_adapter_from_device_name(&self, path: &str) -> KResult<(LocalHandle, Luid)> {
        let kernel = self.kernel_inner();
        let adapter = kernel
            .adapters
            .iter()
            .find(|a| a.interface_path(DISPLAY_DEVICE_ARRIVAL).eq_ignore_ascii_case(path))
            .ok_or(KernelError::InvalidParameter("no display device has that interface path"))?;
        let handle = self.open_adapter(adapter)?;
        Ok((handle, adapter.config.luid))
    }

    fn open_adapter(&self, adapter: &Arc<Adapter>) -> KResult<LocalHandle> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let handle = state.insert_local(LocalEntry::Adapter(Arc::clone(adapter)), &mut graveyard)?;
        *state.adapter_opens.entry(adapter.index).or_insert(0) += 1;
        Ok(handle)
    }

    /// `D3DKMTOpenAdapterFromLuid`: a new local handle to the adapter with
    /// that LUID. An unknown LUID is `STATUS_INVALID_PARAMETER`.
    pub fn open_adapter_from_luid(&self, luid: Luid) -> KResult<LocalHandle> {
        let adapter = self
            .kernel_inner()
            .adapters
            .iter()
            .find(|a| a.config.luid == luid)
            .ok_or(KernelError::InvalidParameter("no adapter has that LUID"))?;
        self.open_adapter(adapter)
    }

    /// `D3DKMTEnumAdapters2`/`3`: opens a handle to every adapter the filter
    /// lists, in configuration order. The caller owns the handles. With
    /// `room` smaller than the count, nothing is opened and the status is
    /// `STATUS_BUFFER_TOO_SMALL` (WINE #19).
    pub fn enum_adapters(&self, filter: EnumFilter, room: usize) -> KResult<Vec<AdapterInfo>> {
        let listed: Vec<&Arc<Adapter>> = self
            .kernel_inner()
            .adapters
            .iter()
            .filter(|a| match a.config.kind {
                AdapterKind::Full => true,
                AdapterKind::ComputeOnly => filter.include_compute_only,
                AdapterKind::DisplayOnly => filter.include_display_only,
            })
            .collect();
        if listed.len() > room {
            return Err(KernelError::BufferTooSmall {
                what: "adapter array",
                needed: listed.len() as u32,
                given: room as u32,
                status: crate::NtStatus::BUFFER_TOO_SMALL,
            });
        }
        let mut out = Vec::with_capacity(listed.len());
        for adapter in listed {
            match self.open_adapter(adapter) {
                Ok(handle) => {
                    out.push(AdapterInfo { handle, luid: adapter.config.luid, num_sources: adapter.config.num_sources })
                }
                Err(e) => {
                    // All or nothing: close what this call opened.
                    for info in out {
                        let _ = self.close_adapter(info.handle);
                    }
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// `D3DKMTCloseAdapter`. A handle that is not an open adapter of this
    /// process is `STATUS_INVALID_PARAMETER` (WINE #20).
    pub fn close_adapter(&self, handle: LocalHandle) -> KResult<()> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let adapter = match state.local.get(handle.0 as u64) {
            Some(LocalEntry::Adapter(a)) => Arc::clone(a),
            _ => return Err(KernelError::BadLocalHandle { handle: handle.0, expected: "adapter" }),
        };
        graveyard.bury(state.local.remove(handle.0 as u64).expect("entry checked above"));
        let opens = state.adapter_opens.get_mut(&adapter.index).expect("open adapters are counted");
        *opens -= 1;
        if *opens == 0 {
            state.adapter_opens.remove(&adapter.index);
            if self.kernel_inner().policies.adapter_close == AdapterClose::DestroyDevices {
                let devices: Vec<u64> = state
                    .local
                    .iter()
                    .filter_map(|(h, e)| match e {
                        LocalEntry::Device(d) if d.device.adapter.index == adapter.index => Some(h),
                        _ => None,
                    })
                    .collect();
                for device in devices {
                    state.destroy_device_locked(device, self.kernel_inner(), &mut graveyard);
                }
            }
        }
        drop(state);
        Ok(())
    }
}

/// A memory segment group (`D3DKMT_MEMORY_SEGMENT_GROUP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryGroup {
    /// `LOCAL` (0): the adapter's dedicated video memory.
    Local,
    /// `NON_LOCAL` (1): system memory the adapter shares.
    NonLocal,
}

impl MemoryGroup {
    /// Decodes the raw value; anything but 0 and 1 is
    /// `STATUS_INVALID_PARAMETER` (WINE #28).
    pub fn from_raw(raw: i32) -> KResult<MemoryGroup> {
        match raw {
            0 => Ok(MemoryGroup::Local),
            1 => Ok(MemoryGroup::NonLocal),
            _ => Err(KernelError::InvalidParameter("unknown memory segment group")),
        }
    }
}

/// The answer of `D3DKMTQueryVideoMemoryInfo`, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoMemoryInfo {
    /// `Budget`: the group's size from the adapter's [`SegmentSizes`].
    pub budget: u64,
    /// `CurrentUsage`: the bytes of this process's resident allocations
    /// (non-local group; 0 for local, see `crate::residency`).
    pub current_usage: u64,
    /// `CurrentReservation`: what `ChangeVideoMemoryReservation` set, else 0.
    pub current_reservation: u64,
    /// `AvailableForReservation`: half the budget (at most the budget, as
    /// WINE #26 requires).
    pub available_for_reservation: u64,
}

impl Process {
    /// `D3DKMTQueryVideoMemoryInfo` for this process on an adapter handle of
    /// it. Adapters here have one physical adapter (node), index 0; any
    /// other index, like a bad adapter handle, is `STATUS_INVALID_PARAMETER`
    /// (WINE #28). The budget is the group's configured size; usage is
    /// the resident allocations' bytes and reservation 0 until changed
    /// (WINE #26; see `crate::residency`).
    pub fn query_video_memory_info(
        &self,
        adapter: LocalHandle,
        physical_adapter: u32,
        group: MemoryGroup,
    ) -> KResult<VideoMemoryInfo> {
        let state = self.lock_live()?;
        let adapter = state.adapter(adapter.0)?;
        if physical_adapter != 0 {
            return Err(KernelError::InvalidParameter("the adapter has one physical adapter, index 0"));
        }
        let segments = adapter.config.segments;
        let (budget, current_usage) = match group {
            MemoryGroup::Local => (segments.dedicated_video, 0),
            // Our allocations are system memory: residency counts here.
            MemoryGroup::NonLocal => (segments.shared_system, state.resident_bytes(adapter.index)),
        };
        let current_reservation =
            state.memory.video_reservations.get(&(adapter.index, group as u32)).copied().unwrap_or(0);
        Ok(VideoMemoryInfo {
            budget,
            current_usage: current_usage.min(budget),
            current_reservation,
            available_for_reservation: budget / 2,
        })
    }
}
