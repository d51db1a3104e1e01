//! The state-machine property test: random op sequences over three virtual
//! processes, run through the C ABI and checked against the reference model
//! (`d3dkmt_emu::fuzz`) after every step; proptest shrinks a failure to a
//! short sequence.
//!
//! CI runs a fixed case count (a few seconds); `D3DKMT_FUZZ_CASES=N` runs
//! more locally. The model encodes WINE #6, #42, #44, #45, #50, #51, #56,
//! #57, #59, #92, #95, #96, #99 and #100 (see `d3dkmt_emu::fuzz::Model`);
//! the named tests below pin some of them as explicit sequences.

use d3dkmt_emu::fuzz::{Access, FAULT_ENTRIES, FAULT_STATUSES, Op, PROCESSES, Sel, prologue, run_sequence};
use proptest::prelude::*;

fn sel() -> impl Strategy<Value = Sel> {
    prop_oneof![
        8 => (0..8u8).prop_map(Sel::Live),
        1 => (0..8u8).prop_map(Sel::Stale),
        1 => (0..8u8).prop_map(Sel::Foreign),
        1 => prop_oneof![Just(0u32), Just(0x4000_0000), any::<u32>()].prop_map(Sel::Garbage),
    ]
}

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![4 => Just(Access::All), 1 => Just(Access::Read), 1 => Just(Access::Write), 1 => Just(Access::None)]
}

/// Every op of the vocabulary, weighted towards creates so that sequences
/// build up state worth destroying.
pub fn op() -> impl Strategy<Value = Op> {
    let p = 0..PROCESSES as u8;
    prop_oneof![
        3 => p.clone().prop_map(|p| Op::OpenAdapter { p }),
        1 => (p.clone(), sel()).prop_map(|(p, adapter)| Op::CloseAdapter { p, adapter }),
        4 => (p.clone(), sel()).prop_map(|(p, adapter)| Op::CreateDevice { p, adapter }),
        1 => (p.clone(), sel()).prop_map(|(p, device)| Op::DestroyDevice { p, device }),
        4 => (p.clone(), sel(), any::<bool>(), any::<u8>())
            .prop_map(|(p, device, nt_shared, initial)| Op::CreateFence { p, device, nt_shared, initial }),
        2 => (p.clone(), sel(), any::<bool>()).prop_map(|(p, device, shared)| Op::CreateSyncMutex { p, device, shared }),
        2 => (p.clone(), sel()).prop_map(|(p, global)| Op::OpenSyncGlobal { p, global }),
        2 => (p.clone(), sel()).prop_map(|(p, sync)| Op::DestroySync { p, sync }),
        3 => (p.clone(), sel(), sel(), any::<u16>()).prop_map(|(p, device, sync, value)| Op::Signal { p, device, sync, value }),
        4 => (p.clone(), sel(), sel()).prop_map(|(p, device, fence)| Op::CreateSession { p, device, fence }),
        2 => (p.clone(), sel()).prop_map(|(p, session)| Op::DestroySession { p, session }),
        2 => (p.clone(), sel()).prop_map(|(p, session)| Op::QueryStatus { p, session }),
        4 => (p.clone(), sel(), access(), proptest::option::of(0..4u8))
            .prop_map(|(p, object, access, name)| Op::Share { p, object, access, name }),
        3 => (p.clone(), sel(), sel()).prop_map(|(p, nt, device)| Op::OpenSyncFromNt { p, nt, device }),
        3 => (p.clone(), sel()).prop_map(|(p, nt)| Op::OpenSessionFromNt { p, nt }),
        2 => (p.clone(), sel()).prop_map(|(p, nt)| Op::QueryInfo { p, nt }),
        2 => (p.clone(), 0..4u8).prop_map(|(p, name)| Op::OpenNtFromName { p, name }),
        4 => (p.clone(), sel(), p.clone(), any::<bool>(), proptest::option::of(access()))
            .prop_map(|(from, nt, to, close_source, access)| Op::Duplicate { from, nt, to, close_source, access }),
        2 => (p.clone(), sel(), sel(), any::<u16>()).prop_map(|(p, device, sync, value)| Op::Wait { p, device, sync, value }),
        3 => (p.clone(), sel()).prop_map(|(p, nt)| Op::CloseNt { p, nt }),
        3 => (sel(), any::<bool>()).prop_map(|(session, invalid)| Op::SetStatus { session, invalid }),
        3 => (p.clone(), 0..4u8, any::<bool>())
            .prop_map(|(p, initial_key, nt_shared)| Op::CreateKeyedMutex { p, initial_key, nt_shared }),
        2 => (p.clone(), sel()).prop_map(|(p, global)| Op::OpenKeyedMutex { p, global }),
        3 => (p.clone(), sel(), 0..4u8).prop_map(|(p, mutex, key)| Op::Acquire { p, mutex, key }),
        3 => (p.clone(), sel(), 0..4u8).prop_map(|(p, mutex, key)| Op::Release { p, mutex, key }),
        1 => (p.clone(), sel()).prop_map(|(p, mutex)| Op::DestroyKeyedMutex { p, mutex }),
        1 => (p.clone(), sel()).prop_map(|(p, device)| Op::RemoveDevice { p, device }),
        2 => (p.clone(), 0..FAULT_ENTRIES.len() as u8, 0..FAULT_STATUSES.len() as u8)
            .prop_map(|(p, entry, status)| Op::InjectFault { p, entry, status }),
        2 => (p.clone(), sel()).prop_map(|(p, device)| Op::CreateContext { p, device }),
        2 => (p.clone(), sel()).prop_map(|(p, context)| Op::DestroyContext { p, context }),
        1 => p.prop_map(|p| Op::Exit { p }),
    ]
}

fn cases() -> u32 {
    std::env::var("D3DKMT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 4096, ..ProptestConfig::default() })]

    /// The kernel answers every step as the model predicts, and every
    /// invariant holds after every step and once every process has exited.
    #[test]
    fn kernel_matches_model(ops in proptest::collection::vec(op(), 1..120)) {
        let ops: Vec<Op> = prologue().into_iter().chain(ops).collect();
        if let Err(failure) = run_sequence(&ops) {
            return Err(TestCaseError::fail(failure.to_string()));
        }
    }
}

/// A fixed smoke sequence: a session shared to another process, opened
/// there, invalidated by the KMD, and its device removed.
#[test]
fn smoke_sequence_matches_model() {
    let l = Sel::Live(0);
    let ops = vec![
        Op::OpenAdapter { p: 0 },
        Op::CreateDevice { p: 0, adapter: l },
        Op::CreateFence { p: 0, device: l, nt_shared: true, initial: 3 },
        Op::CreateSession { p: 0, device: l, fence: l },
        Op::Share { p: 0, object: Sel::Live(0), access: Access::All, name: None },
        Op::Duplicate { from: 0, nt: l, to: 1, close_source: false, access: None },
        Op::OpenSessionFromNt { p: 1, nt: l },
        Op::QueryInfo { p: 1, nt: l },
        Op::SetStatus { session: l, invalid: true },
        Op::QueryStatus { p: 1, session: l },
        Op::RemoveDevice { p: 0, device: l },
        Op::CreateKeyedMutex { p: 2, initial_key: 0, nt_shared: false },
        Op::OpenKeyedMutex { p: 1, global: l },
        Op::Acquire { p: 1, mutex: l, key: 0 },
        Op::Acquire { p: 2, mutex: l, key: 0 },
        Op::Exit { p: 1 },
        Op::Acquire { p: 2, mutex: l, key: 0 },
        Op::Exit { p: 0 },
        // A fault on process 2's next CreateDevice: answered, nothing made.
        Op::InjectFault { p: 2, entry: 2, status: 0 },
        Op::OpenAdapter { p: 2 },
        Op::CreateDevice { p: 2, adapter: l },
        Op::CreateDevice { p: 2, adapter: l },
    ];
    let mut runner = d3dkmt_emu::fuzz::Runner::new(d3dkmt_emu::Kernel::new(Default::default()));
    let statuses: Vec<_> =
        ops.iter().map(|op| runner.step(op).unwrap_or_else(|e| panic!("{op:?}: {e}")).status).collect();
    let n = statuses.len();
    assert_eq!(statuses[n - 2], d3dkmt_emu::NtStatus::NO_MEMORY, "the injected fault fired");
    assert_eq!(statuses[n - 1], d3dkmt_emu::NtStatus::SUCCESS, "and only once");
    assert_eq!(runner.executor().kernel().fault_log().len(), 1);
    let stats = run_sequence(&ops).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(stats.ops, ops.len() as u64 + 3);
}

/// Found by `d3dkmt-emu fuzz --seed 1` (shrunk from 106 ops to 7): a
/// release of an abandoned keyed mutex answers `STATUS_ABANDONED`, a
/// success-class status, and changes nothing; the mutex stays abandoned for
/// the next acquire (WINE #6: the owner's exit abandons it). The model once
/// took any success-class status as a success.
#[test]
fn abandoned_keyed_mutex_stays_abandoned_after_a_release() {
    let ops = [
        Op::CreateKeyedMutex { p: 2, initial_key: 1, nt_shared: false },
        Op::OpenKeyedMutex { p: 1, global: Sel::Live(1) },
        Op::Acquire { p: 2, mutex: Sel::Live(3), key: 1 },
        Op::OpenKeyedMutex { p: 0, global: Sel::Live(2) },
        Op::Exit { p: 2 },
        Op::Release { p: 1, mutex: Sel::Live(7), key: 3 },
        Op::Acquire { p: 0, mutex: Sel::Live(7), key: 1 },
    ];
    let mut runner = d3dkmt_emu::fuzz::Runner::new(d3dkmt_emu::Kernel::new(Default::default()));
    let statuses: Vec<_> =
        ops.iter().map(|op| runner.step(op).unwrap_or_else(|e| panic!("{op:?}: {e}")).status).collect();
    assert_eq!(statuses[5], d3dkmt_emu::NtStatus::ABANDONED);
    assert_eq!(statuses[6], d3dkmt_emu::NtStatus::ABANDONED);
}

/// Runs `ops` step by step on a fresh kernel (model-checked) and returns
/// each step's status.
fn statuses(ops: &[Op]) -> Vec<d3dkmt_emu::NtStatus> {
    let mut runner = d3dkmt_emu::fuzz::Runner::new(d3dkmt_emu::Kernel::new(Default::default()));
    ops.iter().map(|op| runner.step(op).unwrap_or_else(|e| panic!("{op:?}: {e}")).status).collect()
}

/// WINE #6, #51: a global sync handle opened in another process that then
/// exits keeps nothing alive; once the creator's handle goes, the global
/// opens nothing (`STATUS_INVALID_PARAMETER`). The model predicts it, the
/// kernel agrees.
#[test]
fn wine_6_an_exited_process_keeps_no_global_alive() {
    use d3dkmt_emu::NtStatus;
    let l = Sel::Live(0);
    let mut ops = prologue();
    ops.extend([
        Op::CreateSyncMutex { p: 0, device: l, shared: true },
        Op::OpenSyncGlobal { p: 1, global: l },
        Op::Exit { p: 1 },
        Op::DestroySync { p: 0, sync: l },
        Op::OpenSyncGlobal { p: 0, global: l },
    ]);
    let got = statuses(&ops);
    let n = got.len();
    assert_eq!(got[n - 4], NtStatus::SUCCESS, "B opens the global");
    assert_eq!(got[n - 1], NtStatus::INVALID_PARAMETER, "nothing keeps it alive");
}

/// WINE #95, #99, #100: an NT handle keeps its fence alive after the
/// creator's handle is destroyed; a name lives exactly while an NT handle to
/// its object does, matches case-insensitively, and can be used again once
/// gone; a closed NT handle opens nothing (`STATUS_INVALID_HANDLE`).
#[test]
fn wine_95_99_100_names_and_nt_handles() {
    use d3dkmt_emu::NtStatus;
    let l = Sel::Live(0);
    let mut ops = prologue();
    ops.extend([
        Op::CreateFence { p: 0, device: l, nt_shared: true, initial: 0 },
        Op::Share { p: 0, object: l, access: Access::All, name: Some(0) },
        Op::DestroySync { p: 0, sync: l },
        // "FuzzA" was shared; "fuzza" finds it (names fold case).
        Op::OpenNtFromName { p: 1, name: 1 },
        Op::OpenSyncFromNt { p: 1, nt: l, device: l },
        Op::CloseNt { p: 0, nt: l },
        Op::CloseNt { p: 1, nt: l },
        Op::OpenNtFromName { p: 2, name: 0 },
        Op::OpenSyncFromNt { p: 0, nt: Sel::Stale(0), device: l },
        Op::Share { p: 1, object: l, access: Access::Read, name: Some(0) },
        Op::OpenNtFromName { p: 2, name: 0 },
    ]);
    let got = statuses(&ops);
    let tail = &got[got.len() - 11..];
    assert_eq!(
        tail,
        [
            NtStatus::SUCCESS,
            NtStatus::SUCCESS,
            NtStatus::SUCCESS,
            NtStatus::SUCCESS,
            NtStatus::SUCCESS,
            NtStatus::SUCCESS,
            NtStatus::SUCCESS,
            NtStatus::OBJECT_NAME_NOT_FOUND,
            NtStatus::INVALID_HANDLE,
            NtStatus::SUCCESS,
            NtStatus::SUCCESS,
        ]
    );
}
