#!/usr/bin/env python3
"""Writes tests/header_layout.rs and tests/c/layout_dump.c from include/d3dkmt_emu.h.

Every Windows-named struct, union and enum the header declares in full (all
but the d3dkmt_emu_* types, which have static asserts of their own) is matched
against its windows-sys 0.61.2 definition: the type's size and, for every
addressable member (members of anonymous unions and structs and of named
nested structs included; bitfields are checked through their storage unit),
its offset and size; for enums, every enumerator's value.

- tests/c/layout_dump.c prints what the C compiler makes of the header
  (sizeof/offsetof), one `KEY VALUE` line each:
      TYPE size N             sizeof(TYPE)
      TYPE.c.path N           offsetof(TYPE, c.path)
      TYPE.c.path size N      sizeof the member
      ENUM::NAME value N      an enumerator
- tests/header_layout.rs holds the same keys with windows-sys's answer
  (size_of / offset_of!), compiles and runs the C program with the system
  compiler and compares; a mismatch names the type and member.

C members are found in windows-sys by name; a C member of an anonymous union
or struct is looked for under windows-sys's `Anonymous`, `Anonymous1`, ...
fields (the one whose type holds all of that aggregate's members), or at the
same level when windows-sys makes the whole type the union; a named member
not at its level is looked for under the Anonymous* fields too. A `Value`
member of a flags type that windows-sys declares as a bare bitfield is matched
to the `_bitfield` storage unit. A `Reserved*`/`Padding*` member windows-sys
lacks (room for members the header leaves out) must end inside the
windows-sys aggregate holding it. Any other member windows-sys lacks stops the
generator with an error. Types windows-sys declares only behind features
Cargo.toml does not enable cannot be checked; they are listed (UNCHECKED).

It also lists the windows-sys types that the signatures of the emulated
exports (src/abi/*.rs, not stubs.rs) reach, through by-value fields and
pointers (into a declared type only through the members the header declares);
the test fails for any the header does not declare in full, unless ALLOWLIST
below names it, and fails for an ALLOWLIST entry that is no longer needed (the
list may only shrink).

Run it after changing a struct in the header or adding an emulated export:
    python3 tools/gen_layout.py           # rewrite the two files
    python3 tools/gen_layout.py --check   # exit 1 if they are stale (CI)
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include/d3dkmt_emu.h")
OUT_RS = os.path.join(ROOT, "tests/header_layout.rs")
OUT_C = os.path.join(ROOT, "tests/c/layout_dump.c")

# Types an emulated export reaches that the header does not declare in full,
# each with the reason. Shrink it: the test fails once an entry is declared
# or no longer reached.
ALLOWLIST = {
    "D3DDDI_ALLOCATIONLIST": "D3DKMT_CREATEDEVICE.pAllocationList is a legacy output the header declares as void *",
    "D3DDDI_PATCHLOCATIONLIST": "D3DKMT_CREATEDEVICE.pPatchLocationList is a legacy output the header declares as void *",
}


def fail(msg):
    sys.exit(f"gen_layout.py: {msg}")


# ---------------------------------------------------------------------------
# windows-sys
# ---------------------------------------------------------------------------

ws = sorted(glob.glob(os.path.expanduser("~/.cargo/registry/src/*/windows-sys-0.61.2")))
if not ws:
    fail("windows-sys 0.61.2 is not in the cargo registry: run `cargo fetch` first")
WS_SRC = os.path.join(ws[0], "src/Windows")

# The modules whose types the header mirrors, by module path.
WS_MODULES = [
    ("Wdk", "Graphics", "Direct3D"),
    ("Win32", "Foundation"),
    ("Wdk", "Foundation"),
]


def enabled_features():
    text = open(os.path.join(ROOT, "Cargo.toml")).read()
    m = re.search(r"windows-sys\s*=\s*\{[^}]*features\s*=\s*\[(.*?)\]", text, re.S)
    return set(re.findall(r'"(\w+)"', m.group(1))) if m else set()


FEATURES = enabled_features()


def cfg_ok(cfg):
    """Whether a `#[cfg(...)]` windows-sys item exists with our features."""
    if cfg is None:
        return True
    return all(f in FEATURES for f in re.findall(r'feature = "(\w+)"', cfg))


class WsType:
    def __init__(self, name, module, kind, fields=None, alias=None, cfg=None):
        self.name = name
        self.module = module  # tuple of path components
        self.kind = kind  # "struct" | "union" | "alias"
        self.fields = fields or []  # [(name, type string as written)]
        self.alias = alias
        self.cfg = cfg  # the `#[cfg(...)]` windows-sys puts on it, or None
        self.available = cfg_ok(cfg)
        self.consts = []  # for aliases used as enums: names of their constants

    @property
    def path(self):
        return "windows_sys::" + "::".join(self.module + (self.name,))


WS_TYPES = {}  # (module, name) -> WsType
WS_CONSTS = {}  # (module, name) -> (type name, available)

item_re = re.compile(
    r"^(?:#\[repr\(C\)\]\n)?(#\[cfg\([^\n]*\)\]\n)?(?:#\[derive\([^\n]*\)\]\n)?"
    r"pub (struct|union) (\w+) \{\n(.*?)^\}",
    re.M | re.S,
)
alias_re = re.compile(r"^(#\[cfg\([^\n]*\)\]\n)?pub type (\w+) = ([^;]+);", re.M)
const_re = re.compile(r"^(#\[cfg\([^\n]*\)\]\n)?pub const (\w+): (\w+) = ", re.M)

for module in WS_MODULES:
    text = open(os.path.join(WS_SRC, *module, "mod.rs")).read()
    for m in item_re.finditer(text):
        fields = re.findall(r"^\s+pub (\w+): (.+),$", m.group(4), re.M)
        WS_TYPES[(module, m.group(3))] = WsType(m.group(3), module, m.group(2), fields, cfg=m.group(1))
    for m in alias_re.finditer(text):
        WS_TYPES.setdefault((module, m.group(2)), WsType(m.group(2), module, "alias", alias=m.group(3).strip(), cfg=m.group(1)))
    for m in const_re.finditer(text):
        WS_CONSTS[(module, m.group(2))] = (m.group(3), cfg_ok(m.group(1)))
        t = WS_TYPES.get((module, m.group(3)))
        if t is not None:
            t.consts.append(m.group(2))

PRIMITIVES = {"u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize", "f32", "f64", "bool"}


def resolve_path(ty, module):
    """A type written in `module` -> (absolute Rust type expression, (module, name) or None)."""
    ty = re.sub(r"\s*::\s*", "::", ty.strip())
    m = re.match(r"^\*(const|mut) (.+)$", ty)
    if m:
        inner, _ = resolve_path(m.group(2), module)
        return f"*{m.group(1)} {inner}", None
    m = re.match(r"^\[(.+); (\d+)\]$", ty)
    if m:
        inner, key = resolve_path(m.group(1), module)
        return f"[{inner}; {m.group(2)}]", key
    if ty in PRIMITIVES or ty.startswith("core::") or ty.startswith("windows_sys::"):
        return ty, None
    parts = ty.split("::")
    base = list(module)
    while parts[0] == "super":
        base.pop()
        parts.pop(0)
    mod = tuple(base + parts[:-1]) if len(parts) > 1 else module
    key = (mod, parts[-1])
    return "windows_sys::" + "::".join(mod + (parts[-1],)), key


def ws_lookup(name):
    """The windows-sys type a header type name stands for, or None."""
    for module in WS_MODULES:
        t = WS_TYPES.get((module, name))
        if t is not None:
            return t
    return None


def ws_field_type(t, field):
    for name, ty in t.fields:
        if name == field:
            return ty
    return None


def ws_struct(key):
    t = WS_TYPES.get(key) if key else None
    return t if t is not None and t.kind in ("struct", "union") else None


# ---------------------------------------------------------------------------
# The C header
# ---------------------------------------------------------------------------


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def c_defines(text):
    """Object-like macros the header defines, in order (first definition)."""
    names = re.findall(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]", strip_comments(text), re.M)
    return list(dict.fromkeys(names))


def c_tokens(text):
    text = strip_comments(text)
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"', " ", text)
    text = re.sub(r"\\\n", " ", text)
    text = re.sub(r"^\s*#[^\n]*", " ", text, flags=re.M)
    return re.findall(r"[A-Za-z_]\w*|0[xX][0-9A-Fa-f]+[uUlL]*|\d+[uUlL]*|\.\.\.|[{}()\[\];:,*=.<>|&+\-~!?/%^]", text)


class CMember:
    """One member declaration: a scalar/array/pointer, or a nested aggregate."""

    def __init__(self, name, ctype, bitfield=False, members=None, kind=None):
        self.name = name  # None for an anonymous aggregate
        self.ctype = ctype
        self.bitfield = bitfield
        self.members = members  # nested aggregate members, or None
        self.kind = kind  # "struct" / "union" for nested aggregates


class CParser:
    def __init__(self, tokens):
        self.t = tokens
        self.i = 0
        self.aggregates = {}  # typedef name -> (kind, [CMember])
        self.enums = {}  # typedef name -> [enumerator names]
        self.incomplete = set()
        self.order = []

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def next(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, tok):
        got = self.next()
        if got != tok:
            fail(f"header: expected {tok!r}, found {got!r} near {' '.join(self.t[self.i - 8:self.i + 4])}")

    def skip_balanced(self, open_, close):
        depth = 0
        while True:
            tok = self.next()
            if tok == open_:
                depth += 1
            elif tok == close:
                depth -= 1
                if depth == 0:
                    return

    def parse(self):
        while self.i < len(self.t):
            if self.next() == "typedef":
                self.typedef()

    def typedef(self):
        kind = self.peek()
        if kind in ("struct", "union", "enum"):
            self.next()
            if self.peek() not in ("{",):
                self.next()  # the tag
            if self.peek() == "{":
                if kind == "enum":
                    body = self.enum_body()
                else:
                    body = self.aggregate_body()
                names = self.typedef_names()
                if names:
                    if names[0] in self.aggregates or names[0] in self.enums:
                        fail(f"header: {names[0]} is defined twice; the generator reads every definition")
                    if kind == "enum":
                        self.enums[names[0]] = body
                    else:
                        self.aggregates[names[0]] = (kind, body)
                    self.order.append(names[0])
                return
            names = self.typedef_names()
            if kind != "enum" and names:
                self.incomplete.add(names[0])
            return
        # Any other typedef (scalars, function pointers): skip to its `;`.
        depth = 0
        while True:
            tok = self.next()
            if tok in "({[":
                depth += 1
            elif tok in ")}]":
                depth -= 1
            elif tok == ";" and depth == 0:
                return

    def typedef_names(self):
        names = []
        while True:
            tok = self.next()
            if tok == ";":
                return names
            if re.match(r"^[A-Za-z_]\w*$", tok) and self.t[self.i - 2] in ("}", ","):
                names.append(tok)

    def enum_body(self):
        self.expect("{")
        names = []
        while True:
            tok = self.next()
            if tok == "}":
                return names
            names.append(tok)
            depth = 0
            while self.peek() not in ("}",) and not (self.peek() == "," and depth == 0):
                tok = self.next()
                depth += tok == "("
                depth -= tok == ")"
            if self.peek() == ",":
                self.next()

    def aggregate_body(self):
        self.expect("{")
        members = []
        while self.peek() != "}":
            members.extend(self.member_decl())
        self.expect("}")
        return members

    def member_decl(self):
        if self.peek() in ("struct", "union"):
            kind = self.next()
            if self.peek() != "{":
                tag = self.next()
                if self.peek() != "{":
                    return self.declarators(f"{kind} {tag}")
            body = self.aggregate_body()
            if self.peek() == ";":
                self.next()
                return [CMember(None, kind, members=body, kind=kind)]
            out = []
            for d in self.declarators(kind):
                if d.ctype != kind:
                    fail(f"header: nested {kind} member {d.name} with a declarator the generator does not handle")
                d.members, d.kind = body, kind
                out.append(d)
            return out
        return self.declarators(None)

    def declarators(self, spec):
        """Declarators up to the `;`; `spec` is the type when it was already
        read (`struct TAG`), else it is the tokens before the first name."""
        toks = []
        depth = 0
        while True:
            tok = self.next()
            if tok == ";" and depth == 0:
                break
            depth += tok in "(["
            depth -= tok in ")]"
            toks.append(tok)
        groups, cur, depth = [], [], 0
        for tok in toks:
            if tok == "," and depth == 0:
                groups.append(cur)
                cur = []
                continue
            depth += tok in "(["
            depth -= tok in ")]"
            cur.append(tok)
        groups.append(cur)
        out = []
        for g in groups:
            if "(" in g:  # function pointer: spec (*name)(params)
                k = g.index("(")
                if g[k + 1] != "*":
                    fail(f"header: cannot parse member {' '.join(g)}")
                if spec is None:
                    spec = " ".join(g[:k])
                out.append(CMember(g[k + 2], f"{spec} (*)()"))
                continue
            bitfield = len(g) >= 3 and g[-2] == ":"
            if bitfield:
                g = g[:-2]
            dims = ""
            while g and g[-1] == "]":
                k = len(g) - 1 - g[::-1].index("[")
                dims = "[" + " ".join(g[k + 1:-1]) + "]" + dims
                g = g[:k]
            name = g[-1]
            lead = g[:-1]
            if spec is None:
                k = lead.index("*") if "*" in lead else len(lead)
                spec = " ".join(lead[:k])
                lead = lead[k:]
            if not re.match(r"^[A-Za-z_]\w*$", name) or not spec:
                fail(f"header: cannot parse member {' '.join(g)}")
            out.append(CMember(name, f"{spec}{' '.join(lead)}{dims}", bitfield=bitfield))
        return out


def is_windows_named(name):
    return not name.startswith("d3dkmt_emu_")


# ---------------------------------------------------------------------------
# Matching C members to windows-sys fields
# ---------------------------------------------------------------------------


class Row:
    """One C member and the windows-sys field it stands for.

    `kind` "field": offset and size must equal the windows-sys field's.
    `kind` "pad": a Reserved*/Padding* member windows-sys does not have (it
    stands in for members the header leaves out); it must end within the
    windows-sys aggregate holding it (`rust_path` is that aggregate's path,
    "" for the type itself; `field_type` its type)."""

    def __init__(self, c_path, rust_path, field_type, note="", kind="field", holder=None):
        self.c_path, self.rust_path = c_path, rust_path
        self.holder = holder  # the windows-sys type whose field this is
        self.field_type = field_type  # absolute Rust type expression
        self.note, self.kind = note, kind


PAD_NAME = re.compile(r"^(Reserved|Padding)\w*$")


def addressable(members):
    """Names of the members a C path can reach (anonymous aggregates flattened)."""
    out = []
    for m in members:
        if m.bitfield:
            continue
        if m.name is None:
            out.extend(addressable(m.members))
        else:
            out.append(m.name)
    return out


def anonymous_fields(ws_t):
    """(field name, windows-sys struct/union) of ws_t's Anonymous* fields."""
    out = []
    for field, ty in ws_t.fields:
        if re.match(r"^Anonymous\d*$", field):
            inner = ws_struct(resolve_path(ty, ws_t.module)[1])
            if inner is not None:
                out.append((field, inner))
    return out


def find_field(ws_t, name, prefix=""):
    """Where `name` is in ws_t, looking through Anonymous* fields: a list of
    (rust path prefix, windows-sys type holding it), shallowest first."""
    if ws_field_type(ws_t, name) is not None:
        return [(prefix, ws_t)]
    found = []
    for field, inner in anonymous_fields(ws_t):
        found.extend(find_field(inner, name, prefix + field + "."))
    return sorted(found, key=lambda f: f[0].count("."))


def match_members(members, ws_t, c_prefix, rust_prefix):
    """Rows for `members` inside windows-sys type `ws_t`, or an error string."""
    rows = []
    for m in members:
        if m.bitfield:
            continue
        if m.name is None:
            got = match_anonymous(m, ws_t, c_prefix, rust_prefix)
            if isinstance(got, str):
                return got
            rows.extend(got)
            continue
        holder, at, note = ws_t, rust_prefix, ""
        found = find_field(ws_t, m.name)
        if found and (len(found) == 1 or found[0][0].count(".") < found[1][0].count(".")):
            at, holder = rust_prefix + found[0][0], found[0][1]
        elif found:
            return f"{m.name!r} is ambiguous in {ws_t.name}: " + ", ".join(f[0] + m.name for f in found)
        else:
            bits = [f for f, _ in ws_t.fields if f.startswith("_bitfield")]
            if m.name == "Value" and len(bits) == 1 and m.members is None:
                # The whole-flags view of a type windows-sys declares as a
                # bare bitfield: its storage unit.
                expr, _ = resolve_path(ws_field_type(ws_t, bits[0]), ws_t.module)
                rows.append(Row(c_prefix + "Value", rust_prefix + bits[0], expr, "bitfield storage unit", holder=ws_t.name))
                continue
            if PAD_NAME.match(m.name) and m.members is None:
                rows.append(Row(c_prefix + m.name, rust_prefix.rstrip("."), ws_t.path, kind="pad"))
                continue
            return f"no field {m.name!r} in {ws_t.name}"
        ty = ws_field_type(holder, m.name)
        expr, key = resolve_path(ty, holder.module)
        rows.append(Row(c_prefix + m.name, at + m.name, expr, note, holder=holder.name))
        if m.members is not None:
            inner = ws_struct(key)
            if inner is None:
                return f"{holder.name}.{m.name} is not a struct or union in windows-sys"
            got = match_members(m.members, inner, c_prefix + m.name + ".", at + m.name + ".")
            if isinstance(got, str):
                return got
            rows.extend(got)
    return rows


def match_anonymous(m, ws_t, c_prefix, rust_prefix):
    """Rows for a C anonymous union/struct: matched to the Anonymous* field
    that holds all its members, else at the same level (windows-sys may make
    the whole type the union)."""
    names = addressable(m.members)
    if not names:
        return []  # only bitfields: checked through the storage unit
    errors = []
    for field, inner in anonymous_fields(ws_t):
        got = match_members(m.members, inner, c_prefix, rust_prefix + field + ".")
        if not isinstance(got, str):
            return got
        errors.append(f"{field}: {got}")
    got = match_members(m.members, ws_t, c_prefix, rust_prefix)
    if not isinstance(got, str):
        return got
    errors.append(f"same level: {got}")
    return "anonymous " + m.kind + " {" + ", ".join(names) + "}: " + "; ".join(errors)


# ---------------------------------------------------------------------------
# Which windows-sys types the emulated exports reach
# ---------------------------------------------------------------------------


def emulated_signature_types():
    """{windows-sys type name: an export that uses it} from src/abi/*.rs."""
    used = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "src/abi/*.rs"))):
        if path.endswith("stubs.rs"):
            continue
        text = open(path).read()
        sigs = re.findall(r"^\s*(D3DKMT\w+)\((\w+: [^)]*)\)\s*\n?\s*as PFND3DKMT_\w+", text, re.M)
        sigs += re.findall(r'pub extern "system" fn (D3DKMT\w+)\(([^)]*)\)', text, re.S)
        for export, params in sigs:
            for name in re.findall(r"\b[A-Z][A-Z0-9_]+\b", params):
                used.setdefault(name, export)
    return used


def reached_types(declared, matched):
    """Named windows-sys structs/unions/enums the emulated exports reach -> why.

    From each argument type, through by-value fields and pointers: into a
    type the header declares only through the members it declares (`matched`:
    (windows-sys type, field) pairs; Anonymous* fields always), so a union arm
    the header covers with a Reserved member reaches nothing; a type the
    header lacks is listed but not entered (declaring it shows what it
    reaches)."""
    out = {}
    work = []
    for name, export in sorted(emulated_signature_types().items()):
        t = ws_lookup(name)
        if t is not None:
            work.append((t, f"{export} argument", None))
    while work:
        t, why, owner = work.pop()
        if t.kind == "alias":
            if t.consts and t.module == WS_MODULES[0]:
                out.setdefault(t.name, why)
            continue
        if owner is None:  # a named type (not an Anonymous field's type)
            if t.name in out:
                continue
            out[t.name] = why
            if t.name not in declared:
                continue
            owner = t.name
        for field, ty in t.fields:
            anonymous = re.match(r"^Anonymous\d*$", field)
            if not anonymous and (t.name, field) not in matched:
                continue
            for inner in re.findall(r"[\w:]+", ty):
                if inner in ("const", "mut") or inner in PRIMITIVES:
                    continue
                _, key = resolve_path(inner, t.module)
                u = WS_TYPES.get(key) if key else None
                if u is None or not u.available:
                    continue
                if u.kind != "alias" and re.match(rf"^{re.escape(owner)}(_\d+)+$", u.name):
                    work.append((u, why, owner))  # a nested anonymous or named struct/union
                elif u.name not in out:
                    work.append((u, f"{owner}.{field}", None))
    return out


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def build():
    p = CParser(c_tokens(open(HEADER).read()))
    p.parse()
    structs = []  # (c name, WsType, [Row])
    enums = []  # (c name, WsType, [(enumerator, const path)])
    unchecked = []  # (c name, why)
    errors = []
    for name in p.order:
        if not is_windows_named(name):
            continue
        t = ws_lookup(name)
        if t is None:
            errors.append(f"{name}: no such windows-sys type")
            continue
        if not t.available:
            need = sorted(f for f in re.findall(r'feature = "(\w+)"', t.cfg) if f not in FEATURES)
            unchecked.append((name, "windows-sys declares it only with feature(s) " + ", ".join(need)))
            continue
        if name in p.enums:
            if t.kind != "alias":
                errors.append(f"{name}: an enum in the header, a {t.kind} in windows-sys")
                continue
            values = []
            for e in p.enums[name]:
                c = WS_CONSTS.get((t.module, e))
                if c is None or not c[1]:
                    errors.append(f"{name}::{e}: no windows-sys constant of that name")
                    continue
                values.append((e, "windows_sys::" + "::".join(t.module + (e,))))
            enums.append((name, t, values))
            continue
        kind, members = p.aggregates[name]
        if t.kind not in ("struct", "union"):
            errors.append(f"{name}: a {kind} in the header, a {t.kind} in windows-sys")
            continue
        rows = match_members(members, t, "", "")
        if isinstance(rows, str):
            errors.append(f"{name}: {rows}")
            continue
        structs.append((name, t, rows))
    # Macros whose names windows-sys also defines as constants.
    defines = []
    for name in c_defines(open(HEADER).read()):
        for module in WS_MODULES:
            c = WS_CONSTS.get((module, name))
            if c is not None and c[1]:
                defines.append((name, "windows_sys::" + "::".join(module + (name,))))
                break
    if errors:
        fail("cannot match the header to windows-sys:\n  " + "\n  ".join(errors))
    declared = sorted(n for n in p.order if is_windows_named(n))
    matched = {(r.holder, r.rust_path.rsplit(".", 1)[-1]) for _, _, rows in structs for r in rows if r.kind == "field"}
    return structs, enums, defines, unchecked, declared, reached_types(set(declared), matched)


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(structs, enums, defines, unchecked, declared, reached):
    c = [
        "/* Generated by tools/gen_layout.py from include/d3dkmt_emu.h; do not edit.",
        " * Prints the size and member offsets/sizes the C compiler gives every",
        " * Windows-named type of the header, and every enumerator's value, for",
        " * tests/header_layout.rs to compare with windows-sys. */",
        "#include <stddef.h>",
        "#include <stdio.h>",
        "",
        '#include "d3dkmt_emu.h"',
        "",
        '#define SIZE(T) printf("%s size %zu\\n", #T, sizeof(T))',
        "#define FIELD(T, path) \\",
        '    printf("%s.%s %zu\\n%s.%s size %zu\\n", #T, #path, offsetof(T, path), #T, #path, sizeof(((T *)0)->path))',
        '#define VALUE(E, name) printf("%s::%s value %lld\\n", #E, #name, (long long)(name))',
        '#define END(T, path) printf("%s.%s end %zu\\n", #T, #path, offsetof(T, path) + sizeof(((T *)0)->path))',
        '#define DEFINE(name) printf("%s value %lld\\n", #name, (long long)(name))',
        "",
        "int main(void) {",
    ]
    rs_rows = []
    for name, t, rows in structs:
        c.append(f"    SIZE({name});")
        rs_rows.append(f"    ({rust_str(name + ' size')}, {rust_str(f'size_of::<{t.name}>()')}, size_of::<{t.path}>() as i64),")
        for r in rows:
            if r.kind == "pad":
                bound = f"offset_of!({t.path}, {r.rust_path}) + " if r.rust_path else ""
                c.append(f"    END({name}, {r.c_path});")
                rs_rows.append(
                    f"    ({rust_str(f'{name}.{r.c_path} end')}, "
                    f"{rust_str(f'at most the end of {t.name}' + (f'.{r.rust_path}' if r.rust_path else ''))}, "
                    f"({bound}size_of::<{r.field_type}>()) as i64),"
                )
                continue
            c.append(f"    FIELD({name}, {r.c_path});")
            note = f" ({r.note})" if r.note else ""
            rs_rows.append(
                f"    ({rust_str(f'{name}.{r.c_path}')}, {rust_str(f'offset_of!({t.name}, {r.rust_path}){note}')}, "
                f"offset_of!({t.path}, {r.rust_path}) as i64),"
            )
            rs_rows.append(
                f"    ({rust_str(f'{name}.{r.c_path} size')}, {rust_str(f'size_of::<{r.field_type}>()')}, "
                f"size_of::<{r.field_type}>() as i64),"
            )
    for name, t, values in enums:
        c.append(f"    SIZE({name});")
        rs_rows.append(f"    ({rust_str(name + ' size')}, {rust_str(f'size_of::<{t.name}>()')}, size_of::<{t.path}>() as i64),")
        for e, path in values:
            c.append(f"    VALUE({name}, {e});")
            rs_rows.append(f"    ({rust_str(f'{name}::{e} value')}, {rust_str(e)}, {path} as i64),")
    for name, path in defines:
        c.append(f"    DEFINE({name});")
        rs_rows.append(f"    ({rust_str(f'{name} value')}, {rust_str(name)}, {path} as i64),")
    c += ["    return 0;", "}", ""]

    reached_rows = [f"    ({rust_str(n)}, {rust_str(why)})," for n, why in sorted(reached.items())]
    declared_rows = [f"    {rust_str(n)}," for n in declared]
    unchecked_rows = [f"    ({rust_str(n)}, {rust_str(why)})," for n, why in unchecked]
    allow_rows = [f"    ({rust_str(n)}, {rust_str(why)})," for n, why in sorted(ALLOWLIST.items())]
    rs = RS_TEMPLATE.format(
        nstructs=len(structs),
        nenums=len(enums),
        ndefines=len(defines),
        layout="\n".join(rs_rows),
        reached="\n".join(reached_rows),
        declared="\n".join(declared_rows),
        allow="\n".join(allow_rows),
        unchecked="\n".join(unchecked_rows),
    )
    return rs, "\n".join(c)


RS_TEMPLATE = '''\
//! The C header's Windows-named types against windows-sys (x86_64).
//!
//! Generated by `tools/gen_layout.py` from `include/d3dkmt_emu.h`; do not
//! edit. Regenerate after changing a struct in the header or adding an
//! emulated export: `python3 tools/gen_layout.py`. CI runs it with `--check`.
//!
//! `tests/c/layout_dump.c` prints what the C compiler makes of the header
//! ({nstructs} structs and unions, {nenums} enums, {ndefines} macros that windows-sys
//! also defines); each line must equal the windows-sys value in `LAYOUT`. The C program is compiled with `$CC`
//! (default `cc`); without a compiler the test is skipped, unless `CI=true`.

use std::collections::BTreeMap;
use std::mem::{{offset_of, size_of}};
use std::path::Path;
use std::process::Command;

/// `(key printed by layout_dump.c, what windows-sys measures, its value)`.
/// A key ending in ` end` is a `Reserved*`/`Padding*` member windows-sys does
/// not have: where it ends must be at most the value (it stays inside the
/// windows-sys aggregate that holds it); every other key must be equal.
#[rustfmt::skip]
const LAYOUT: &[(&str, &str, i64)] = &[
{layout}
];

/// Header types windows-sys declares only behind features Cargo.toml does not
/// enable: their layout cannot be checked here (the test prints them).
#[rustfmt::skip]
const UNCHECKED: &[(&str, &str)] = &[
{unchecked}
];

/// Named windows-sys types the emulated exports' signatures reach (through
/// by-value fields and pointers; into a declared type only through the
/// members the header declares), with the first use found.
#[rustfmt::skip]
const REACHED: &[(&str, &str)] = &[
{reached}
];

/// Windows-named types the header declares in full.
#[rustfmt::skip]
const DECLARED: &[&str] = &[
{declared}
];

/// Reached types the header may leave out, with the reason (the
/// `ALLOWLIST` of `tools/gen_layout.py`). It may only shrink.
#[rustfmt::skip]
const ALLOWLIST: &[(&str, &str)] = &[
{allow}
];

fn in_ci() -> bool {{
    std::env::var("CI").is_ok_and(|v| v == "true")
}}

/// Compiles and runs `tests/c/layout_dump.c`; `None` when there is no C
/// compiler and CI is not set.
fn c_layout() -> Option<BTreeMap<String, i64>> {{
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("layout_dump");
    let compiled = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&bin)
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("tests/c/layout_dump.c"))
        .status();
    match compiled {{
        Err(e) if !in_ci() => {{
            eprintln!("SKIPPED: no C compiler ({{cc}}: {{e}}); set CC, or CI=true to make this a failure");
            return None;
        }}
        Err(e) => panic!("CI=true and the C compiler {{cc}} cannot be run: {{e}}"),
        Ok(status) => assert!(status.success(), "{{cc}} failed to compile tests/c/layout_dump.c: {{status}}"),
    }}
    let out = Command::new(&bin).output().expect("run layout_dump");
    assert!(out.status.success(), "layout_dump failed: {{}}", out.status);
    let text = String::from_utf8(out.stdout).expect("layout_dump prints UTF-8");
    let mut map = BTreeMap::new();
    for line in text.lines() {{
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad layout_dump line {{line:?}}"));
        let value: i64 = value.parse().unwrap_or_else(|_| panic!("bad layout_dump line {{line:?}}"));
        assert!(map.insert(key.to_owned(), value).is_none(), "layout_dump printed {{key}} twice");
    }}
    Some(map)
}}

#[test]
fn header_types_match_windows_sys() {{
    let Some(mut c) = c_layout() else {{ return }};
    let mut mismatches = Vec::new();
    for &(key, measure, expected) in LAYOUT {{
        match c.remove(key) {{
            Some(got) if key.ends_with(" end") && got <= expected => {{}}
            Some(got) if key.ends_with(" end") => {{
                mismatches.push(format!("{{key}}: the header gives {{got}}, past {{measure}} = {{expected}}"))
            }}
            Some(got) if got == expected => {{}}
            Some(got) => mismatches.push(format!("{{key}}: the header gives {{got}}, windows-sys {{measure}} = {{expected}}")),
            None => mismatches.push(format!("{{key}}: layout_dump.c does not print it (stale? run tools/gen_layout.py)")),
        }}
    }}
    for key in c.keys() {{
        mismatches.push(format!("{{key}}: printed by layout_dump.c but not checked (stale? run tools/gen_layout.py)"));
    }}
    assert!(mismatches.is_empty(), "include/d3dkmt_emu.h differs from windows-sys:\\n  {{}}", mismatches.join("\\n  "));
    assert!(LAYOUT.len() > 100, "suspiciously few layout checks: {{}}", LAYOUT.len());
    for (name, why) in UNCHECKED {{
        eprintln!("not checked: {{name}}: {{why}}");
    }}
}}

#[test]
fn header_declares_every_type_the_emulated_exports_use() {{
    let allowed: BTreeMap<&str, &str> = ALLOWLIST.iter().copied().collect();
    let mut problems = Vec::new();
    for &(name, why) in REACHED {{
        let declared = DECLARED.contains(&name);
        if !declared && !allowed.contains_key(name) {{
            problems.push(format!("{{name}} (used by {{why}}) is not declared in include/d3dkmt_emu.h"));
        }}
        if declared && allowed.contains_key(name) {{
            problems.push(format!("{{name}} is declared now: remove it from ALLOWLIST in tools/gen_layout.py"));
        }}
    }}
    for &(name, _) in ALLOWLIST {{
        if !REACHED.iter().any(|&(n, _)| n == name) {{
            problems.push(format!("{{name}} is no longer used by an emulated export: remove it from ALLOWLIST"));
        }}
    }}
    assert!(problems.is_empty(), "header coverage:\\n  {{}}", problems.join("\\n  "));
}}

/// The generated files are what `tools/gen_layout.py` makes of today's header
/// and exports (skipped without python3, unless CI=true).
#[test]
fn generated_layout_files_are_fresh() {{
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match Command::new("python3").arg(root.join("tools/gen_layout.py")).arg("--check").status() {{
        Err(e) if !in_ci() => eprintln!("SKIPPED: python3 cannot be run: {{e}}"),
        Err(e) => panic!("CI=true and python3 cannot be run: {{e}}"),
        Ok(status) => assert!(status.success(), "stale: run `python3 tools/gen_layout.py`"),
    }}
}}
'''


def main():
    check = "--check" in sys.argv[1:]
    structs, enums, defines, unchecked, declared, reached = build()
    rs, c = render(structs, enums, defines, unchecked, declared, reached)
    stale = []
    for path, text in ((OUT_RS, rs), (OUT_C, c)):
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale.append(os.path.relpath(path, ROOT))
            if not check:
                with open(path, "w") as f:
                    f.write(text)
    missing = sorted(n for n in reached if n not in declared and n not in ALLOWLIST)
    nrows = sum(len(r) for _, _, r in structs)
    if check:
        if stale:
            print("stale (run python3 tools/gen_layout.py): " + ", ".join(stale), file=sys.stderr)
            sys.exit(1)
        return
    print(f"{len(structs)} structs/unions ({nrows} members), {len(enums)} enums, {len(defines)} macros; "
          f"{len(reached)} types reached by emulated exports; wrote: {', '.join(stale) or 'nothing (up to date)'}")
    for name, why in unchecked:
        print(f"not checked: {name}: {why}", file=sys.stderr)
    if missing:
        print("not declared in the header (the test will fail): " + ", ".join(missing), file=sys.stderr)


if __name__ == "__main__":
    main()
