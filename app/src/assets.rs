//! The names of the build's files (server only). With `hash-files` (Cargo.toml), cargo-leptos puts a
//! hash of each file's content in its name and lists the hashes in `hash.txt` beside the server
//! binary; leptos's `HydrationScripts` reads the script and WebAssembly names from there, and this
//! module the stylesheet's. A file whose name carries its hash never changes, so browsers may keep it
//! for a year (`server::middleware`).

use leptos::config::LeptosOptions;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Where leptos looks for the hash list: `hash.txt` (or `LEPTOS_HASH_FILE_NAME`) beside the binary.
pub fn hash_list_path(options: &LeptosOptions) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_default()
        .join(options.hash_file.as_ref())
}

/// The hash of `kind` ("css", "js", "wasm") in the hash list's text, one `kind: hash` a line.
pub fn hash_of<'a>(list: &'a str, kind: &str) -> Option<&'a str> {
    list.lines()
        .filter_map(|l| l.trim().split_once(':'))
        .find(|(k, _)| k.trim() == kind)
        .map(|(_, h)| h.trim())
        .filter(|h| !h.is_empty())
}

/// The stylesheet's address ("/pkg/guildhall.Gq2…x.css"), read once per process.
pub fn css_href(options: &LeptosOptions) -> String {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let name = &options.output_name;
        let pkg = &options.site_pkg_dir;
        let hashed = options
            .hash_files
            .then(|| std::fs::read_to_string(hash_list_path(options)).ok())
            .flatten()
            .and_then(|list| hash_of(&list, "css").map(|h| format!("/{pkg}/{name}.{h}.css")));
        hashed.unwrap_or_else(|| format!("/{pkg}/{name}.css"))
    })
    .clone()
}

/// Whether the last part of `path` names a file by its content: `name.HASH.ext`, the hash being
/// cargo-leptos's 22 characters of URL-safe base64 (an MD5).
pub fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|p| {
            p.len() == 22
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !p.bytes().all(|b| b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_read_from_the_list() {
        let list = "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBB\ncss: Gq2-x_AAAAAAAAAAAAAAAA\n";
        assert_eq!(hash_of(list, "css"), Some("Gq2-x_AAAAAAAAAAAAAAAA"));
        assert_eq!(hash_of(list, "wasm"), Some("BBB"));
        assert_eq!(hash_of(list, "split"), None);
    }

    #[test]
    fn only_names_carrying_a_hash_count_as_hashed() {
        assert!(is_hashed("/pkg/guildhall.Gq2-x_AAAAAAAAAAAAAAAA.wasm"));
        assert!(is_hashed("/pkg/chunk_12.Gq2-x_AAAAAAAAAAAAAAAA.wasm"));
        assert!(is_hashed("/pkg/__wasm_split.Gq2-x_AAAAAAAAAAAAAAAA.js"));
        assert!(!is_hashed("/pkg/guildhall.wasm"));
        assert!(!is_hashed("/pkg/guildhall.css"));
        assert!(!is_hashed("/pkg/__wasm_split.______________________.js"));
        assert!(!is_hashed("/pkg/chunk_12.wasm"));
    }
}
