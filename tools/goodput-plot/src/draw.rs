//! The figure: one small chart per row, two to a line, all on the same axes, so the rows
//! compare at a glance. Each shows the offered rate (grey), the degraded period (shaded), B's
//! capacity during it (dashed) and the row's goodput (blue).

use std::path::Path;

use plotters::prelude::*;

use crate::spec::{Row, Spec};

/// Each chart's size in pixels.
const CHART: (u32, u32) = (560, 250);
/// Charts on one line of the figure.
const COLUMNS: usize = 2;
/// The height of the figure's title.
const TITLE_HEIGHT: u32 = 40;
/// The font family every text uses; `main` registers the font file under this name.
pub(crate) const FONT: &str = "sans-serif";

const GOODPUT: RGBColor = RGBColor(31, 94, 196);
const RATE: RGBColor = RGBColor(128, 128, 128);
const DEGRADED: RGBColor = RGBColor(214, 69, 65);

/// The figure's size for `rows` charts.
pub(crate) fn size(rows: usize) -> (u32, u32) {
    let lines = rows.div_ceil(COLUMNS) as u32;
    (CHART.0 * COLUMNS as u32, TITLE_HEIGHT + CHART.1 * lines)
}

/// Draws `spec` into a PNG at `out`.
pub(crate) fn png(spec: &Spec, out: &Path) -> anyhow::Result<()> {
    let root = BitMapBackend::new(out, size(spec.rows.len())).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(&spec.title, (FONT, 20))?;
    let lines = spec.rows.len().div_ceil(COLUMNS);
    let charts = root.split_evenly((lines, COLUMNS));
    for (index, (area, row)) in charts.iter().zip(&spec.rows).enumerate() {
        chart(area, spec, row, index == 0)?;
    }
    root.present()?;
    Ok(())
}

fn chart(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    spec: &Spec,
    row: &Row,
    with_legend: bool,
) -> anyhow::Result<()> {
    let (seconds, ceiling) = (spec.seconds(), spec.ceiling());
    let mut chart = ChartBuilder::on(area)
        .caption(&row.label, (FONT, 15))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(0.0..seconds, 0.0..ceiling)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("seconds")
        .y_desc("2xx a second")
        .label_style((FONT, 11))
        .axis_desc_style((FONT, 12))
        .draw()?;

    let degraded = spec.degraded;
    chart
        .draw_series([Rectangle::new(
            [(degraded.from, 0.0), (degraded.to, ceiling)],
            DEGRADED.mix(0.08).filled(),
        )])?
        .label("B degraded")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], DEGRADED.mix(0.2).filled()));
    chart
        .draw_series(LineSeries::new(
            [(0.0, spec.rate), (seconds, spec.rate)],
            RATE.stroke_width(1),
        ))?
        .label("offered")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RATE));
    chart
        .draw_series(DashedLineSeries::new(
            [
                (degraded.from, degraded.capacity),
                (degraded.to, degraded.capacity),
            ],
            6,
            4,
            DEGRADED.stroke_width(1),
        ))?
        .label("B's capacity")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], DEGRADED));
    // Each second's count is drawn at the middle of its second.
    let points = row
        .goodput
        .iter()
        .enumerate()
        .map(|(second, value)| (second as f64 + 0.5, *value));
    chart
        .draw_series(LineSeries::new(points, GOODPUT.stroke_width(2)))?
        .label("goodput")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], GOODPUT.stroke_width(2)));

    if with_legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 11))
            .background_style(WHITE.mix(0.85))
            .border_style(RATE)
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_has_two_charts_to_a_line_below_its_title() {
        assert_eq!(size(1), (1120, 290));
        assert_eq!(size(2), (1120, 290));
        assert_eq!(size(7), (1120, 1040));
    }
}
