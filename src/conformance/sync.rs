//! Conformance scenarios and raw calls: Synchronization objects of every type, global handles, NT handles and names for syncs (WINE #3, #6, #7, #42-#53, #92-#100).
//! The rows are in `fixtures/conformance/sync.tsv`.

use core::ffi::c_void;

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::{HANDLE, UNICODE_STRING};

use super::{Ctx, JUNK, SHARED_NT, Scenario, bytes_of};
use crate::abi::exports::{
    D3DKMTCreateSynchronizationObject, D3DKMTCreateSynchronizationObject2, D3DKMTDestroySynchronizationObject,
    D3DKMTOpenSyncObjectFromNtHandle, D3DKMTOpenSyncObjectFromNtHandle2, D3DKMTOpenSyncObjectNtHandleFromName,
    D3DKMTOpenSynchronizationObject, D3DKMTShareObjects, D3DKMTSignalSynchronizationObjectFromCpu,
    D3DKMTWaitForSynchronizationObjectFromCpu,
};
use crate::{NtHandle, NtStatus};

/// `Flags.Shared` alone: a global (KMT) handle.
const SHARED: u32 = 0x1;
/// `STANDARD_RIGHTS_READ` and `STANDARD_RIGHTS_WRITE` (both `READ_CONTROL`).
const STANDARD_RIGHTS: u32 = 0x0002_0000;
const NAME: &str = "\\BaseNamedObjects\\D3dkmtEmuSyncName";

/// A v2 create of `ty` on `device` with `flags`; `init` fills the union.
fn create2(
    device: u32,
    ty: i32,
    flags: u32,
    init: impl FnOnce(&mut D3DKMT_CREATESYNCHRONIZATIONOBJECT2),
) -> (NtStatus, D3DKMT_CREATESYNCHRONIZATIONOBJECT2) {
    let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device, hSyncObject: JUNK, ..Default::default() };
    args.Info.Type = ty;
    args.Info.Flags.Anonymous.Value = flags;
    args.Info.SharedHandle = JUNK;
    init(&mut args);
    let status = NtStatus(D3DKMTCreateSynchronizationObject2(&mut args));
    (status, args)
}

/// A v2 mutex with `flags`: (local handle, SharedHandle).
fn mutex(device: u32, flags: u32) -> (u32, u32) {
    let (status, args) = create2(device, D3DDDI_SYNCHRONIZATION_MUTEX, flags, |_| {});
    status.unwrap();
    (args.hSyncObject, args.Info.SharedHandle)
}

/// A v1 create of `ty` on `device`.
fn create1(device: u32, ty: i32) -> (NtStatus, D3DKMT_CREATESYNCHRONIZATIONOBJECT) {
    let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT { hDevice: device, hSyncObject: JUNK, ..Default::default() };
    args.Info.Type = ty;
    let status = NtStatus(D3DKMTCreateSynchronizationObject(&mut args));
    (status, args)
}

fn destroy(handle: u32) -> NtStatus {
    NtStatus(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: handle }))
}

fn open_global(global: u32) -> (NtStatus, u32) {
    let mut args = D3DKMT_OPENSYNCHRONIZATIONOBJECT { hSharedHandle: global, hSyncObject: JUNK, ..Default::default() };
    let status = NtStatus(D3DKMTOpenSynchronizationObject(&mut args));
    (status, args.hSyncObject)
}

fn local_shaped(h: u32) -> bool {
    h != 0 && h != JUNK && h & 0x3F == 0 && h & 0xC000_0000 != 0
}

/// Runs `f` with `OBJECT_ATTRIBUTES` naming `name`.
fn with_name<R>(name: &str, f: impl FnOnce(*mut OBJECT_ATTRIBUTES) -> R) -> R {
    let units: Vec<u16> = name.encode_utf16().collect();
    let bytes = (units.len() * 2) as u16;
    let string = UNICODE_STRING { Length: bytes, MaximumLength: bytes, Buffer: units.as_ptr().cast_mut() };
    let mut attributes =
        OBJECT_ATTRIBUTES { Length: size_of::<OBJECT_ATTRIBUTES>() as u32, ObjectName: &string, ..Default::default() };
    f(&mut attributes)
}

/// `D3DKMTShareObjects` of one object under `name` with `access`.
fn share_named(object: u32, name: &str, access: u32) -> (NtStatus, HANDLE) {
    with_name(name, |attributes| {
        let mut nt: HANDLE = core::ptr::null_mut();
        (NtStatus(D3DKMTShareObjects(1, &object, attributes, access, &mut nt)), nt)
    })
}

fn open_by_name(name: &str, access: u32) -> (NtStatus, HANDLE) {
    with_name(name, |attributes| {
        let mut args = D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME {
            dwDesiredAccess: access,
            pObjAttrib: attributes,
            hNtHandle: 8 as _,
        };
        let status = NtStatus(D3DKMTOpenSyncObjectNtHandleFromName(&mut args));
        (status, args.hNtHandle)
    })
}

fn open_nt1(nt: HANDLE) -> (NtStatus, u32) {
    let mut args = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE { hNtHandle: nt, hSyncObject: JUNK };
    let status = NtStatus(D3DKMTOpenSyncObjectFromNtHandle(&mut args));
    (status, args.hSyncObject)
}

fn signal(device: u32, handles: &[u32], values: &[u64]) -> NtStatus {
    let args = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device,
        ObjectCount: handles.len() as u32,
        ObjectHandleArray: handles.as_ptr(),
        FenceValueArray: values.as_ptr(),
        ..Default::default()
    };
    NtStatus(D3DKMTSignalSynchronizationObjectFromCpu(&args))
}

fn wait(device: u32, handles: &[u32], values: &[u64], any: bool) -> NtStatus {
    let mut args = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device,
        ObjectCount: handles.len() as u32,
        ObjectHandleArray: handles.as_ptr(),
        FenceValueArray: values.as_ptr(),
        ..Default::default()
    };
    args.Flags.Anonymous.Value = any as u32;
    NtStatus(D3DKMTWaitForSynchronizationObjectFromCpu(&args))
}

/// The scenario called `name`, if this area has it.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        // ---- v1 create (WINE #42, #43) ----
        "sync1_device_without_type" => |ctx, c| {
            let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT { hDevice: ctx.device(), ..Default::default() };
            let before = bytes_of(&args);
            let status = NtStatus(D3DKMTCreateSynchronizationObject(&mut args));
            c.that(bytes_of(&args) == before, "struct modified on failure");
            status
        },
        "sync1_mutex_without_device" => |_, c| {
            let (status, args) = create1(0, D3DDDI_SYNCHRONIZATION_MUTEX);
            c.that(args.hSyncObject == JUNK, "hSyncObject written on failure");
            status
        },
        "sync1_mutex" => |ctx, c| {
            let (status, args) = create1(ctx.device(), D3DDDI_SYNCHRONIZATION_MUTEX);
            c.that(
                local_shaped(args.hSyncObject),
                format!("hSyncObject {:#x} is not a local handle", args.hSyncObject),
            );
            c.that(destroy(args.hSyncObject).is_ok(), "destroying the v1 mutex failed");
            status
        },
        "sync1_semaphore" => |ctx, c| {
            let device = ctx.device();
            let mut args =
                D3DKMT_CREATESYNCHRONIZATIONOBJECT { hDevice: device, hSyncObject: JUNK, ..Default::default() };
            args.Info.Type = D3DDDI_SEMAPHORE;
            args.Info.Anonymous.Semaphore = D3DDDI_SYNCHRONIZATIONOBJECTINFO_0_1 { MaxCount: 4, InitialCount: 1 };
            let status = NtStatus(D3DKMTCreateSynchronizationObject(&mut args));
            c.that(local_shaped(args.hSyncObject), "no local hSyncObject");
            let kind = ctx.a.sync_object_kind(crate::LocalHandle(args.hSyncObject));
            c.that(
                kind == Ok(crate::SyncKind::Semaphore { max_count: 4, initial_count: 1 }),
                format!("kept as {kind:?}"),
            );
            status
        },
        "sync1_fence" => |ctx, c| {
            let (status, args) = create1(ctx.device(), D3DDDI_FENCE);
            c.that(args.hSyncObject == JUNK, "hSyncObject written on failure");
            status
        },
        "sync1_monitored_fence" => |ctx, _| create1(ctx.device(), D3DDDI_MONITORED_FENCE).0,
        // ---- v2 create of every type (WINE #46, #47, #48, #52, #53) ----
        "sync2_every_type" => |ctx, c| {
            let device = ctx.device();
            let mut last = NtStatus::SUCCESS;
            let mut seen = Vec::new();
            for ty in [D3DDDI_SYNCHRONIZATION_MUTEX, D3DDDI_SEMAPHORE, D3DDDI_FENCE, D3DDDI_MONITORED_FENCE] {
                let (status, args) = create2(device, ty, 0, |_| {});
                c.that(status.is_ok(), format!("type {ty}: {status}"));
                c.that(local_shaped(args.hSyncObject), format!("type {ty}: no local handle"));
                c.that(args.Info.SharedHandle == 0, format!("type {ty}: SharedHandle {:#x}", args.Info.SharedHandle));
                c.that(!seen.contains(&args.hSyncObject), "a handle value repeated");
                seen.push(args.hSyncObject);
                if status.is_err() {
                    last = status;
                }
            }
            last
        },
        "sync2_fence_value_kept" => |ctx, c| {
            let (status, args) = create2(ctx.device(), D3DDDI_FENCE, 0, |a| a.Info.Anonymous.Fence.FenceValue = 77);
            let kind = ctx.a.sync_object_kind(crate::LocalHandle(args.hSyncObject));
            c.that(kind == Ok(crate::SyncKind::Fence { initial_value: 77 }), format!("kept as {kind:?}"));
            status
        },
        "sync2_cpu_notification_null_event" => |ctx, c| {
            let (status, args) = create2(ctx.device(), D3DDDI_CPU_NOTIFICATION, 0, |_| {});
            c.that(args.hSyncObject == JUNK && args.Info.SharedHandle == JUNK, "outputs written on failure");
            status
        },
        "sync2_cpu_notification_event" => |ctx, c| {
            let (status, args) = create2(ctx.device(), D3DDDI_CPU_NOTIFICATION, 0, |a| {
                a.Info.Anonymous.CPUNotification.Event = 0x44 as _
            });
            c.that(local_shaped(args.hSyncObject), "no local handle");
            status
        },
        "sync2_shared_global" => |ctx, c| {
            let device = ctx.device();
            let (status, first) = create2(device, D3DDDI_SYNCHRONIZATION_MUTEX, SHARED, |_| {});
            let (_, second) = create2(device, D3DDDI_SEMAPHORE, SHARED, |_| {});
            for args in [&first, &second] {
                let g = args.Info.SharedHandle;
                c.that(g & 0x3F == 2 && g & 0xC000_0000 != 0, format!("global {g:#x}: low 6 bits not 2 or no top bit"));
                c.that(local_shaped(args.hSyncObject), "no local hSyncObject");
            }
            c.that(first.Info.SharedHandle != second.Info.SharedHandle, "two shared creates got one global handle");
            c.that(ctx.kernel.live_global_handles() == 2, "global table does not hold two names");
            status
        },
        "sync2_mutex_nt_sharing_without_shared" => |ctx, c| {
            let (status, args) = create2(ctx.device(), D3DDDI_SYNCHRONIZATION_MUTEX, 0x2, |_| {});
            c.that(args.hSyncObject == JUNK, "hSyncObject written on failure");
            status
        },
        "sync2_mutex_shared_nt" => |ctx, c| {
            let (status, args) = create2(ctx.device(), D3DDDI_SYNCHRONIZATION_MUTEX, SHARED_NT, |_| {});
            c.that(args.Info.SharedHandle == 0, format!("SharedHandle {:#x}, want 0", args.Info.SharedHandle));
            c.that(ctx.kernel.live_global_handles() == 0, "a global handle was registered");
            status
        },
        "sync2_periodic_not_emulated" => |ctx, _| create2(ctx.device(), D3DDDI_PERIODIC_MONITORED_FENCE, 0, |_| {}).0,
        // ---- global handles (WINE #3, #6, #7, #49, #50, #51) ----
        "destroy_global_handle" => |ctx, c| {
            let (local, global) = mutex(ctx.device(), SHARED);
            let status = destroy(global);
            c.that(open_global(global).0.is_ok(), "the global died with a failed destroy");
            c.that(destroy(local).is_ok(), "the local handle did not destroy");
            status
        },
        "open_sync_junk_global" => |_, c| {
            let (status, out) = open_global(JUNK);
            c.that(out == JUNK, "hSyncObject written on failure");
            status
        },
        "open_sync_local_in_hsyncobject" => |ctx, _| {
            let (local, _) = mutex(ctx.device(), SHARED);
            let mut args =
                D3DKMT_OPENSYNCHRONIZATIONOBJECT { hSharedHandle: 0, hSyncObject: local, ..Default::default() };
            NtStatus(D3DKMTOpenSynchronizationObject(&mut args))
        },
        "open_sync_local_as_global" => |ctx, _| {
            let (local, _) = mutex(ctx.device(), SHARED);
            open_global(local).0
        },
        "open_sync_global_lifecycle" => |ctx, c| {
            let (creator, global) = mutex(ctx.device(), SHARED);
            let (status, opened) = open_global(global);
            c.that(status.is_ok() && local_shaped(opened) && opened != creator, "open of a valid global");
            c.that(destroy(opened).is_ok(), "destroying the opened handle");
            c.that(destroy(opened) == NtStatus::INVALID_PARAMETER, "destroying the opened handle twice");
            let (again, reopened) = open_global(global);
            c.that(again.is_ok(), "the global is not openable while the creator's handle lives");
            c.that(destroy(reopened).is_ok(), "destroying the reopened handle");
            c.that(destroy(creator).is_ok(), "destroying the creator's handle");
            c.that(ctx.kernel.live_global_handles() == 0, "the global outlived its object");
            open_global(global).0
        },
        "global_kept_by_other_process" => |ctx, c| {
            let (creator, global) = mutex(ctx.device(), SHARED);
            let opened = {
                let _b = ctx.b.enter();
                open_global(global)
            };
            c.that(opened.0.is_ok(), "process B could not open A's global");
            c.that(destroy(creator).is_ok(), "destroying the creator's handle");
            let (status, again) = open_global(global);
            c.that(local_shaped(again), "no local handle from the reopen");
            status
        },
        "global_dead_process_holds_nothing" => |ctx, c| {
            let (creator, global) = mutex(ctx.device(), SHARED);
            {
                let _b = ctx.b.enter();
                c.that(open_global(global).0.is_ok(), "process B could not open A's global");
            }
            ctx.b.exit();
            let (reopened, again) = open_global(global);
            c.that(reopened.is_ok(), "the creator's handle no longer keeps the global");
            c.that(destroy(again).is_ok() && destroy(creator).is_ok(), "destroying A's handles");
            // B's handle died with B: nothing holds the mutex now.
            c.that(ctx.kernel.live_objects(crate::ObjectKind::SyncObject) == 0, "the exited process kept the mutex");
            open_global(global).0
        },
        // ---- ShareObjects and NT handles (WINE #92, #93, #95, #97, #98, #99, #100) ----
        "share_v1_sync" => |ctx, _| {
            let (status, args) = create1(ctx.device(), D3DDDI_SYNCHRONIZATION_MUTEX);
            status.unwrap();
            Ctx::share(&[args.hSyncObject], STANDARD_RIGHTS).0
        },
        "share_v2_unshared_mutex" => |ctx, _| {
            let (local, _) = mutex(ctx.device(), 0);
            Ctx::share(&[local], STANDARD_RIGHTS).0
        },
        "share_global_shared_mutex" => |ctx, c| {
            let (local, global) = mutex(ctx.device(), SHARED);
            let mut nt: HANDLE = JUNK as usize as HANDLE;
            let status = NtStatus(D3DKMTShareObjects(1, &local, core::ptr::null(), STANDARD_RIGHTS, &mut nt));
            c.that(nt as usize == JUNK as usize, "phSharedNtHandle written on failure");
            c.that(open_global(global).0.is_ok(), "the failed share broke the global");
            status
        },
        "share_named_sync_type_and_name" => |ctx, c| {
            let (local, _) = mutex(ctx.device(), SHARED_NT);
            let (status, nt) = share_named(local, NAME, STANDARD_RIGHTS);
            let v = nt as usize as u64;
            c.that(v != 0 && v % 4 == 0 && v & 0xC000_0000 == 0, format!("NT handle {v:#x} is D3DKMT-shaped"));
            let ty = ctx.a.nt_handle_type_name(NtHandle(v));
            c.that(ty == Ok("DxgkSharedSyncObject"), format!("type name {ty:?}"));
            let name = ctx.a.nt_object_name(NtHandle(v));
            c.that(name == Ok(Some(NAME.to_string())), format!("object name {name:?}, want {NAME:?}"));
            status
        },
        "open_sync1_after_creator_destroyed" => |ctx, c| {
            let device = ctx.device();
            let (local, _) = mutex(device, SHARED_NT);
            let (status, nt) = Ctx::share(&[local], crate::access::SYNC_ALL_ACCESS);
            status.unwrap();
            c.that(destroy(local).is_ok(), "destroying the creator's handle");
            c.that(ctx.kernel.live_objects(crate::ObjectKind::SyncObject) == 1, "the NT handle did not keep the mutex");
            let (status, opened) = open_nt1(nt);
            c.that(local_shaped(opened), "no local hSyncObject");
            c.that(
                ctx.a.sync_object_kind(crate::LocalHandle(opened))
                    == Ok(crate::SyncKind::Mutex { initial_state: false }),
                "the opened handle is not the mutex",
            );
            status
        },
        "open_sync1_closed_nt_handle" => |ctx, c| {
            let fence = ctx.fence(ctx.device(), SHARED_NT);
            let (status, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            status.unwrap();
            ctx.a.close_nt_handle(NtHandle::from_ptr(nt)).expect("close");
            let (status, out) = open_nt1(nt);
            c.that(out == JUNK, "hSyncObject written on failure");
            status
        },
        "open_sync2_mutex" => |ctx, c| {
            let device = ctx.device();
            let (local, _) = mutex(device, SHARED_NT);
            let (status, nt) = Ctx::share(&[local], crate::access::SYNC_ALL_ACCESS);
            status.unwrap();
            let mut args = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt, hDevice: device, ..Default::default() };
            args.Flags.Anonymous.Value = SHARED_NT;
            let status = NtStatus(D3DKMTOpenSyncObjectFromNtHandle2(&mut args));
            c.that(local_shaped(args.hSyncObject), "no local hSyncObject");
            c.that(flags_of(&args) & 0x3 == 0, "Shared/NtSecuritySharing not cleared");
            // Shared again under another name, from the opened handle.
            let (again, _) = share_named(args.hSyncObject, "\\BaseNamedObjects\\Other", STANDARD_RIGHTS);
            c.that(again.is_ok(), format!("re-share of the opened mutex: {again}"));
            status
        },
        "open_by_name_missing" => |_, c| {
            let (status, nt) = open_by_name(NAME, STANDARD_RIGHTS);
            c.that(nt as usize == 8, "hNtHandle written on failure");
            status
        },
        "open_by_name_other_case_no_access" => |ctx, c| {
            let (local, _) = mutex(ctx.device(), SHARED_NT);
            share_named(local, NAME, STANDARD_RIGHTS).0.unwrap();
            let (status, nt) = open_by_name(&NAME.to_uppercase(), 0);
            c.that(nt as usize == 8, "hNtHandle written on failure");
            status
        },
        "open_by_name_write" => |ctx, c| {
            let device = ctx.device();
            let (local, _) = mutex(device, SHARED_NT);
            let (_, shared) = share_named(local, NAME, STANDARD_RIGHTS);
            let (status, nt) = open_by_name(&NAME.to_lowercase(), STANDARD_RIGHTS);
            let v = nt as usize as u64;
            c.that(v != 0 && v % 4 == 0 && v & 0xC000_0000 == 0, format!("NT handle {v:#x} is D3DKMT-shaped"));
            c.that(nt != shared, "the open returned the sharer's handle");
            c.that(ctx.a.nt_handle_type_name(NtHandle(v)) == Ok("DxgkSharedSyncObject"), "wrong type name");
            let mut open = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt, hDevice: device, ..Default::default() };
            c.that(D3DKMTOpenSyncObjectFromNtHandle2(&mut open) == 0, "the opened-by-name handle does not open");
            status
        },
        "open_by_name_in_other_process" => |ctx, c| {
            let (local, _) = mutex(ctx.device(), SHARED_NT);
            share_named(local, NAME, STANDARD_RIGHTS).0.unwrap();
            let _b = ctx.b.enter();
            let (status, nt) = open_by_name(NAME, crate::access::SYNC_ALL_ACCESS);
            let (opened, h) = open_nt1(nt);
            c.that(opened.is_ok() && local_shaped(h), "B could not open the sync from its NT handle");
            status
        },
        "name_vanishes_with_last_nt_handle" => |ctx, c| {
            let (local, _) = mutex(ctx.device(), SHARED_NT);
            let (shared, nt) = share_named(local, NAME, STANDARD_RIGHTS);
            shared.unwrap();
            let (opened, _second) = open_by_name(NAME, STANDARD_RIGHTS);
            c.that(opened.is_ok(), "open by name");
            ctx.a.close_nt_handle(NtHandle::from_ptr(nt)).expect("close");
            c.that(open_by_name(NAME, STANDARD_RIGHTS).0.is_ok(), "the name went while an NT handle remained");
            // That open's handle, and the earlier one: close both.
            for h in ctx.a.nt_handles() {
                ctx.a.close_nt_handle(h).expect("close");
            }
            c.that(
                open_by_name(NAME, STANDARD_RIGHTS).0 == NtStatus::OBJECT_NAME_NOT_FOUND,
                "the name outlived its last NT handle",
            );
            c.that(ctx.kernel.live_objects(crate::ObjectKind::SyncObject) == 1, "the mutex died with its NT handles");
            c.that(share_named(local, NAME, STANDARD_RIGHTS).0.is_ok(), "re-share under the same name");
            open_by_name(NAME, STANDARD_RIGHTS).0
        },
        "open_by_name_wrong_type" => |ctx, _| {
            let (_, _, session) = ctx.session();
            with_name(NAME, |attributes| {
                let mut out: HANDLE = core::ptr::null_mut();
                NtStatus(D3DKMTShareObjects(1, &session, attributes, crate::access::GENERIC_ALL, &mut out)).unwrap();
            });
            open_by_name(NAME, STANDARD_RIGHTS).0
        },
        // ---- CPU signal and wait of several objects (DOC) ----
        "signal_wait_many_all" => |ctx, c| {
            let device = ctx.device();
            let fences: Vec<u32> = (0..3).map(|_| ctx.fence(device, 0)).collect();
            c.that(signal(device, &fences, &[5, 6, 7]).is_ok(), "signal of three fences");
            for (f, v) in fences.iter().zip([5u64, 6, 7]) {
                let got = ctx.a.fence_value(crate::LocalHandle(*f));
                c.that(got == Ok(v), format!("fence value {got:?}, want {v}"));
            }
            wait(device, &fences, &[5, 6, 7], false)
        },
        "wait_any_one_reached" => |ctx, c| {
            let device = ctx.device();
            let fences = [ctx.fence(device, 0), ctx.fence(device, 0)];
            c.that(signal(device, &fences[1..], &[3]).is_ok(), "signal");
            // Only the second is reached: wait-any returns, wait-all would block.
            wait(device, &fences, &[u64::MAX, 3], true)
        },
        "signal_mutex_from_cpu" => |ctx, _| {
            let device = ctx.device();
            let (m, _) = mutex(device, 0);
            signal(device, &[m], &[1])
        },
        "wait_fence_type_from_cpu" => |ctx, _| {
            let device = ctx.device();
            let (status, args) = create2(device, D3DDDI_FENCE, 0, |_| {});
            status.unwrap();
            wait(device, &[args.hSyncObject], &[0], false)
        },
        "signal_mixed_list_all_or_nothing" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, 0);
            let (m, _) = mutex(device, 0);
            let status = signal(device, &[fence, m], &[9, 1]);
            c.that(ctx.a.fence_value(crate::LocalHandle(fence)) == Ok(0), "the fence moved though the call failed");
            status
        },
        _ => return None,
    })
}

/// The `Flags` bits of an open-from-NT-handle struct.
fn flags_of(args: &D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2) -> u32 {
    crate::abi::ptr::read_prefix(&args.Flags)
}

/// Calls `entry` with the raw argument pointer `p` (NULL or a 1024-byte
/// buffer), if it is an entry point of this area.
pub(super) fn raw_call(entry: &str, p: *mut c_void) -> Option<i32> {
    Some(match entry {
        "D3DKMTCreateSynchronizationObject" => D3DKMTCreateSynchronizationObject(p.cast()),
        "D3DKMTOpenSynchronizationObject" => D3DKMTOpenSynchronizationObject(p.cast()),
        "D3DKMTOpenSyncObjectFromNtHandle" => D3DKMTOpenSyncObjectFromNtHandle(p.cast()),
        "D3DKMTOpenSyncObjectNtHandleFromName" => D3DKMTOpenSyncObjectNtHandleFromName(p.cast()),
        _ => return None,
    })
}
