// goodput-plot: draws scripts/overload.sh's goodput over time as a PNG, one chart per row.
//
// Run it:   cargo run --release -p goodput-plot -- --spec plot.json \
//               --font /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf --out overload.png
// Reads:    the JSON that spec.rs describes (overload.sh writes it from loadgen's series).
//
// Why plotters with ab_glyph: pure Rust from crates.io, so CI needs no system library; text is
// drawn with the font file given, read at run time (Debian's fonts-dejavu-core, which
// overload.sh installs when missing), so the repository ships no font.

mod draw;
mod spec;

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use plotters::style::{FontStyle, register_font};

use crate::spec::Spec;

/// The largest spec read: an hour of twelve rows is well under this.
const MAX_SPEC_BYTES: u64 = 4 << 20;
/// The largest font file read; DejaVu Sans is under 1 MiB.
const MAX_FONT_BYTES: u64 = 32 << 20;

/// Draws goodput over time, one chart per row, into a PNG.
#[derive(Debug, Parser)]
#[command(name = "goodput-plot", version, about, long_about = None)]
struct Args {
    /// The figure to draw, as JSON: title, rate, degraded period and rows.
    #[arg(long)]
    spec: PathBuf,
    /// A TrueType or OpenType font file for the text.
    #[arg(long)]
    font: PathBuf,
    /// Where to write the PNG.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let spec = read(&args.spec, MAX_SPEC_BYTES)?;
    let spec =
        String::from_utf8(spec).with_context(|| format!("{} is not UTF-8", args.spec.display()))?;
    let spec = Spec::parse(&spec).with_context(|| format!("reading {}", args.spec.display()))?;
    // plotters keeps registered fonts for the whole process: the bytes live as long.
    let font: &'static [u8] = read(&args.font, MAX_FONT_BYTES)?.leak();
    if register_font(draw::FONT, FontStyle::Normal, font).is_err() {
        bail!("{} is not a TrueType or OpenType font", args.font.display());
    }
    draw::png(&spec, &args.out).with_context(|| format!("drawing {}", args.out.display()))?;
    Ok(())
}

/// The whole file, refused if larger than `limit` bytes.
fn read(path: &PathBuf, limit: u64) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > limit {
        bail!(
            "{} is {size} bytes, more than the {limit} read",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
