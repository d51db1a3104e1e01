#!/usr/bin/env python3
"""Regenerates the stub blocks of include/d3dkmt_emu.h from src/abi/stubs.rs
(and windows-sys, for the parameter types of GDI-gated imports). Called by
tools/gen_stubs.py; usage: gen_header_stubs.py REPO_ROOT"""
import glob, os, re, sys
root = sys.argv[1]
hdr_path = os.path.join(root, "include/d3dkmt_emu.h")
stubs = open(os.path.join(root, "src/abi/stubs.rs")).read()
ws = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/windows-sys-0.61.2/src/Windows/Wdk/Graphics/Direct3D/mod.rs"))[0]
d3d = open(ws).read()
hdr = open(hdr_path).read()

fns = re.findall(r'pub extern "system" fn (\w+)\((.*?)\)(?:\s*->\s*([\w:]+))?', stubs, re.S)
# Types the header already defines completely (outside the generated blocks).
def strip_generated(text):
    return re.sub(r"/\* BEGIN GENERATED.*?END GENERATED[^*]*\*/", "", text, flags=re.S)
defined = set(re.findall(r"\}\s*(\w+);", strip_generated(hdr))) | {"HANDLE", "UINT", "LUID"}

special_names = {
    "D3DKMTGetPresentQueueEvent": ["hAdapter", "phQueueEvent"],
    "D3DKMTGetProcessSchedulingPriorityClass": ["hProcess", "pPriority"],
    "D3DKMTSetProcessSchedulingPriorityClass": ["hProcess", "Priority"],
    "D3DKMTReleaseProcessVidPnSourceOwners": ["hProcess"],
    "D3DKMTRegisterVailProcess": ["pVmGuid"],
}

def gdi_type(name):
    m = re.search(r'fn %s\(\w+ : \*(mut|const) (\w+)\)' % name, d3d)
    # Not in windows-sys (a libdxg-only function): an opaque pointer.
    return (m.group(1), m.group(2)) if m else ("mut", "void")

forward = set()
protos = []
for name, params, ret in fns:
    ps = [p.strip() for p in " ".join(params.split()).split(",") if p.strip()]
    cparams = []
    for i, p in enumerate(ps):
        pname, ty = [x.strip() for x in p.split(":", 1)]
        ty = ty.replace("windows_sys::Win32::Foundation::", "").replace("windows_sys::core::", "")
        m = re.match(r"\*(mut|const) (.+)", ty)
        if m:
            mut, base = m.group(1), m.group(2).strip()
            if base == "core::ffi::c_void":
                mut, base = gdi_type(name)
            c = ("const " if mut == "const" else "") + base + " *"
        else:
            base = ty
            c = {"u32": "D3DKMT_HANDLE" if pname == "_hadapter" else "UINT"}.get(ty, ty) + " "
        if base not in defined and re.match(r"[A-Z_][A-Z0-9_]+$", base) and base not in ("UINT",):
            forward.add(base)
        names = special_names.get(name)
        cname = names[i] if names else ("pData" if len(ps) == 1 else "arg%d" % i)
        cparams.append(c + cname)
    cret = {"bool": "BOOLEAN", "": "void"}.get(ret, "NTSTATUS")
    protos.append("%s D3DKMT_EMU_APIENTRY %s(%s);" % (cret, name, ", ".join(cparams) or "void"))

enum_types = {"D3DKMT_SCHEDULINGPRIORITYCLASS"}
fwd_lines = []
for t in sorted(forward - enum_types):
    tag = "_GUID" if t == "GUID" else "_" + t
    fwd_lines.append("typedef struct %s %s;" % (tag, t))

types_block = "\n".join(
    ["/* BEGIN GENERATED STUB TYPES (from src/abi/stubs.rs) */",
     "/* Argument types of the entry points that are exported but not",
     " * emulated. Declared incomplete: those calls look at nothing and answer",
     " * STATUS_NOT_IMPLEMENTED. A program that needs their contents uses the",
     " * Windows definitions (D3DKMT_EMU_USE_SYSTEM_TYPES). */",
     "typedef enum _D3DKMT_SCHEDULINGPRIORITYCLASS {",
     "    D3DKMT_SCHEDULINGPRIORITYCLASS_IDLE = 0,",
     "    D3DKMT_SCHEDULINGPRIORITYCLASS_BELOW_NORMAL = 1,",
     "    D3DKMT_SCHEDULINGPRIORITYCLASS_NORMAL = 2,",
     "    D3DKMT_SCHEDULINGPRIORITYCLASS_ABOVE_NORMAL = 3,",
     "    D3DKMT_SCHEDULINGPRIORITYCLASS_HIGH = 4,",
     "    D3DKMT_SCHEDULINGPRIORITYCLASS_REALTIME = 5",
     "} D3DKMT_SCHEDULINGPRIORITYCLASS;"]
    + fwd_lines + ["/* END GENERATED STUB TYPES */"])
protos_block = "\n".join(
    ["/* BEGIN GENERATED STUB PROTOTYPES (from src/abi/stubs.rs) */"]
    + protos + ["/* END GENERATED STUB PROTOTYPES */"])

new, n1 = re.subn(r"/\* BEGIN GENERATED STUB TYPES.*?/\* END GENERATED STUB TYPES \*/", lambda m: types_block, hdr, flags=re.S)
new, n2 = re.subn(r"/\* BEGIN GENERATED STUB PROTOTYPES.*?/\* END GENERATED STUB PROTOTYPES \*/", lambda m: protos_block, new, flags=re.S)
assert n1 == 1 and n2 == 1, (n1, n2)
open(hdr_path, "w").write(new)
print(len(protos), "prototypes,", len(fwd_lines), "forward types")
