//! A crate's source files written to a fresh folder for one test, removed afterwards.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The files of a test crate, under a folder of their own.
pub(crate) struct TestCrate {
    dir: PathBuf,
    root: PathBuf,
}

impl TestCrate {
    /// Writes `files` (paths relative to `src/`, contents); the first is the root file.
    pub(crate) fn new(files: &[(&str, &str)]) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "layers-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let src = dir.join("src");
        for (path, text) in files {
            let file = src.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        let root = src.join(files[0].0);
        Self { dir, root }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.root.clone()
    }
}

impl Drop for TestCrate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
