//! Bar charts as SVG, drawn on the server so that pages need no script and no chart library.
//! Generic: a title, labelled bars with a value and the text shown beside it; any page can
//! use it. Sizes are presentation attributes and colours CSS classes (`svg.bars` in
//! `console.css`), since the Content-Security-Policy blocks `style` attributes.
use maud::{Markup, html};

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// What the bar is (a department, a category), left of the bar.
    pub label: String,
    /// Its length, in the chart's unit; None draws no bar (no value, e.g. a rate of nothing).
    pub value: Option<u64>,
    /// What is written right of the bar ("92.00", "75.0% 3/4", "–").
    pub shown: String,
    /// An extra CSS class for this bar (e.g. to mark a selected one).
    pub class: Option<&'static str>,
}

/// Width of the label column, of the longest bar and of the value text, in SVG units.
const LABEL_W: u64 = 150;
const PLOT_W: u64 = 300;
const SHOWN_W: u64 = 110;
/// Height of one row, and of the bar in it.
const ROW_H: u64 = 22;
const BAR_H: u64 = 14;

/// The length of a bar for `value` out of `max` on a plot `full` wide: proportional, rounded
/// down, never beyond the plot (a value above `max` is clipped), 0 when `max` is 0.
pub fn bar_width(value: u64, max: u64, full: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    // u128: no product of two u64 overflows it.
    let w = u128::from(value.min(max)) * u128::from(full) / u128::from(max);
    u64::try_from(w).unwrap_or(full)
}

/// A horizontal bar chart of `bars`, scaled so that `max` fills the plot (pass the largest
/// value for a relative chart, or the measure's top, such as 100 % for rates).
pub fn horizontal(title: &str, bars: &[Bar], max: u64) -> Markup {
    let width = LABEL_W + PLOT_W + SHOWN_W;
    let height = ROW_H * (bars.len() as u64).max(1);
    html! {
        figure.chart {
            figcaption { (title) }
            svg.bars xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(title)
                width=(width) height=(height) viewBox={"0 0 " (width) " " (height)} {
                title { (title) }
                @for (i, b) in bars.iter().enumerate() {
                    @let y = i as u64 * ROW_H;
                    @let text_y = y + ROW_H / 2 + 4;
                    g.bar data-label=(b.label) {
                        text.label x=(LABEL_W - 6) y=(text_y) text-anchor="end" { (b.label) }
                        @if let Some(v) = b.value {
                            @let w = bar_width(v, max, PLOT_W);
                            rect class=[b.class] x=(LABEL_W) y=(y + (ROW_H - BAR_H) / 2)
                                width=(w) height=(BAR_H) data-value=(v) {}
                            text.value x=(LABEL_W + w + 4) y=(text_y) { (b.shown) }
                        } @else {
                            text.value.none x=(LABEL_W + 4) y=(text_y) { (b.shown) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: Option<u64>) -> Bar {
        Bar {
            label: label.to_owned(),
            value,
            shown: value.map_or("–".to_owned(), |v| v.to_string()),
            class: None,
        }
    }

    #[test]
    fn widths_are_proportional_and_clipped() {
        assert_eq!(bar_width(50, 100, 300), 150);
        assert_eq!(bar_width(100, 100, 300), 300);
        assert_eq!(bar_width(1, 3, 300), 100);
        assert_eq!(bar_width(2, 3, 300), 200, "rounded down");
        assert_eq!(bar_width(500, 100, 300), 300, "never past the plot");
        assert_eq!(bar_width(7, 0, 300), 0, "nothing to scale by");
        assert_eq!(bar_width(u64::MAX, u64::MAX, 300), 300, "no overflow");
    }

    #[test]
    fn each_bar_is_drawn_to_scale_and_labels_are_escaped() {
        let svg = horizontal(
            "得分 <score>",
            &[
                bar("roads", Some(10_000)),
                bar("<script>alert(1)</script>", Some(5_000)),
                bar("unrated", None),
            ],
            10_000,
        )
        .into_string();
        assert!(
            svg.contains(r#"width="300" height="14" data-value="10000""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"width="150" height="14" data-value="5000""#),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 2, "no bar without a value");
        assert!(
            svg.contains("&lt;script&gt;") && !svg.contains("<script>"),
            "{svg}"
        );
        assert!(svg.contains("得分 &lt;score&gt;"));
        // Three rows of 22: the chart grows with the bars.
        assert!(svg.contains(r#"height="66" viewBox="0 0 560 66""#), "{svg}");
        assert!(!svg.contains("style="), "CSP blocks style attributes");
    }
}
