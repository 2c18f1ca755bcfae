//! include/labcam.h must parse in MATLAB's `loadlibrary` and LabVIEW's import wizard: no
//! `#pragma once`, no compiler attributes, no function pointers, no bool/size_t/enum types in
//! signatures, nothing included but <stdint.h>, struct fields of 8 bytes only, and every macro
//! in the LABCAM_ namespace. The checker is tested on bad snippets too, so it cannot pass
//! vacuously.

const HEADER: &str = include_str!("../include/labcam.h");

/// Types allowed in function signatures.
const SIGNATURE_TYPES: &[&str] = &["int32_t", "uint32_t", "int64_t", "uint64_t", "double", "char", "void", "labcam_handle"];
/// Types allowed as struct fields (8 bytes each).
const FIELD_TYPES: &[&str] = &["int64_t", "uint64_t", "double"];

fn strip_comments(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = match rest[i..].find("*/") {
            Some(j) => &rest[i + j + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// Every problem a MATLAB/LabVIEW parser would have with `src`.
fn violations(src: &str) -> Vec<String> {
    let code = strip_comments(src);
    let mut v = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("#pragma") {
            v.push(format!("line {}: {t}", n + 1));
        }
        if let Some(inc) = t.strip_prefix("#include") {
            if inc.trim() != "<stdint.h>" {
                v.push(format!("line {}: includes {}", n + 1, inc.trim()));
            }
        }
        if let Some(def) = t.strip_prefix("#define ") {
            let name = def.split_whitespace().next().unwrap_or("");
            if !name.starts_with("LABCAM_") {
                v.push(format!("line {}: macro {name} outside the LABCAM_ namespace", n + 1));
            }
        }
        for bad in ["__attribute__", "__declspec", "[[", "_Bool", "size_t", "enum ", "(*", "bool "] {
            if t.contains(bad) {
                v.push(format!("line {}: '{bad}' in: {t}", n + 1));
            }
        }
    }
    // Struct fields.
    let mut rest = code.as_str();
    while let Some(i) = rest.find("struct ") {
        let after = &rest[i..];
        let (Some(open), Some(semi)) = (after.find('{'), after.find(';')) else { break };
        if open < semi {
            let close = after.find('}').unwrap_or(after.len());
            for field in after[open + 1..close].split(';').map(str::trim).filter(|f| !f.is_empty()) {
                let ty = field.split_whitespace().next().unwrap_or("");
                if !FIELD_TYPES.contains(&ty) || field.contains('*') || field.contains('[') {
                    v.push(format!("struct field '{field}' is not a plain 8-byte integer or double"));
                }
            }
            rest = &after[close..];
        } else {
            rest = &after[7..];
        }
    }
    // Function signatures: every identifier that is a type must be allowed.
    for decl in code.split(';').map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")) {
        let Some(open) = decl.find('(') else { continue };
        if decl.contains('{') || !decl.contains("labcam_") || decl.starts_with('#') {
            continue;
        }
        let ret = decl[..open].trim();
        if !ret.starts_with("int32_t labcam_") {
            v.push(format!("function does not return int32_t: {decl}"));
        }
        let args = &decl[open + 1..decl.rfind(')').unwrap_or(decl.len())];
        for arg in args.split(',').map(str::trim) {
            let words: Vec<&str> = arg.split(|c: char| c.is_whitespace() || c == '*').filter(|w| !w.is_empty()).collect();
            let ty_words: Vec<&str> = words.iter().copied().filter(|w| *w != "const" && *w != "struct").collect();
            let ty = ty_words.first().copied().unwrap_or("");
            let by_struct = words.contains(&"struct") && ty.starts_with("labcam_") && arg.contains('*');
            if !(SIGNATURE_TYPES.contains(&ty) || by_struct) {
                v.push(format!("argument '{arg}' has a type LabVIEW/MATLAB cannot pass"));
            }
            if ty == "void" && !arg.contains('*') && args.trim() != "void" {
                v.push(format!("argument '{arg}'"));
            }
        }
    }
    v
}

#[test]
fn shipped_header_is_parseable_by_matlab_and_labview() {
    let v = violations(HEADER);
    assert!(v.is_empty(), "include/labcam.h: {v:#?}");
    // And it is not vacuous: the functions are there.
    assert!(HEADER.matches("int32_t labcam_").count() >= 50);
}

#[test]
fn checker_rejects_what_the_parsers_reject() {
    for bad in [
        "#pragma once\n",
        "#include <stdbool.h>\n",
        "int32_t labcam_x(bool b);\n",
        "int32_t labcam_x(size_t n);\n",
        "int32_t labcam_x(void (*cb)(void));\n",
        "int32_t labcam_x(enum mode m);\n",
        "__attribute__((visibility(\"default\"))) int32_t labcam_x(int32_t a);\n",
        "struct labcam_s { int32_t small; };\n",
        "struct labcam_s { void *p; };\n",
        "#define OTHER 1\n",
        "uint8_t labcam_x(int32_t a);\n",
        "int32_t labcam_x(float f);\n",
    ] {
        assert!(!violations(bad).is_empty(), "checker accepted: {bad}");
    }
    assert!(violations("struct labcam_s { int64_t a; double b; };\nint32_t labcam_x(labcam_handle h, const char *s, struct labcam_s *o);\n").is_empty());
}
