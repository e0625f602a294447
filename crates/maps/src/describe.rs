//! A text description of a map, written from its data: what is mapped, the period, where the
//! values are highest and lowest (districts, and regions where the layer knows them), and how
//! many districts have no value. Newsrooms must publish maps with such a text (screen readers
//! read it; it is the `<desc>` of an SVG figure, the embed code's `title` and the interactive
//! map's summary); placemap writes a correct first draft instead of leaving it to the author.

use choropleth::legend::NumberStyle;
use districts::{District, Indicator, Layer};
use serde::Serialize;

use crate::style::ResolvedStyle;

/// How many districts are named at each end.
const NAMED: usize = 3;

/// One district or region named in a description, with its value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Named {
    /// GSS code (a region's name for regions).
    pub code: String,
    /// Name.
    pub name: String,
    /// The mapped value (a region's: the mean of its districts).
    pub value: f64,
}

/// A map's description and the facts it was written from.
#[derive(Clone, Debug, Serialize)]
pub struct Description {
    /// The text, in sentences.
    pub text: String,
    /// Highest values first.
    pub highest: Vec<Named>,
    /// Lowest values first.
    pub lowest: Vec<Named>,
    /// Regions with the highest and the lowest mean value, when the layer knows regions.
    pub regions: Option<(Named, Named)>,
    /// Districts drawn with a value.
    pub with_value: usize,
    /// Districts drawn without one.
    pub without_value: usize,
}

fn region_of(d: &District) -> Option<&str> {
    d.attributes
        .iter()
        .find(|(k, _)| k == "region_name")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A region's name as it reads in a sentence: "the North East", "London".
fn place(name: &str) -> String {
    let compass = ["North", "South", "East", "West"];
    if compass.iter().any(|c| name.starts_with(c)) {
        format!("the {name}")
    } else {
        name.to_string()
    }
}

/// "A", "A and B", "A, B and C".
fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Describes `style` (resolved for `ind` on `layer`) over the districts for which `drawn` is
/// true; `scope` names them ("England", "North East"). Categorical maps name the most common
/// categories instead of extremes.
pub fn describe(
    layer: &Layer,
    ind: &Indicator,
    style: &ResolvedStyle,
    drawn: &dyn Fn(usize) -> bool,
    scope: &str,
) -> Description {
    let kind = layer
        .meta
        .title
        .split(" (")
        .next()
        .unwrap_or("")
        .to_lowercase();
    let what = format!(
        "Map of {} by {kind}, {}, {}",
        ind.meta.title,
        style.showing.label(),
        scope
    );
    let drawn_n = (0..layer.districts.len()).filter(|&i| drawn(i)).count();
    if style.classification.is_none() {
        // Categories: the most common ones.
        let mut counts: Vec<(&str, usize)> = style
            .categories
            .iter()
            .map(|c| (c.label.as_str(), 0))
            .collect();
        let mut with_value = 0;
        let fills = style.fills.iter().enumerate().filter(|(i, _)| drawn(*i));
        for (_, f) in fills {
            if let choropleth::render::Fill::Solid(c) = f
                && let Some(k) = style.categories.iter().position(|k| k.color == *c)
            {
                counts[k].1 += 1;
                with_value += 1;
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let common: Vec<String> = counts
            .iter()
            .filter(|c| c.1 > 0)
            .take(NAMED)
            .map(|(l, n)| format!("{l} ({n})"))
            .collect();
        let mut text = format!("{what}. ");
        if !common.is_empty() {
            text.push_str(&format!(
                "The most common categories are {}.",
                list(&common)
            ));
        }
        let without = drawn_n - with_value;
        if without > 0 {
            text.push_str(&format!(" {without} of {drawn_n} areas have no value."));
        }
        return Description {
            text: text.trim().to_string(),
            highest: Vec::new(),
            lowest: Vec::new(),
            regions: None,
            with_value,
            without_value: without,
        };
    }
    let mut values: Vec<(usize, f64)> = style
        .values
        .iter()
        .enumerate()
        .filter(|(i, _)| drawn(*i))
        .filter_map(|(i, v)| v.filter(|x| x.is_finite()).map(|x| (i, x)))
        .collect();
    // Highest first; equal values by name, so the text does not depend on layer order.
    values.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| layer.districts[a.0].name.cmp(&layer.districts[b.0].name))
    });
    let named = |&(i, v): &(usize, f64)| Named {
        code: layer.districts[i].code.clone(),
        name: layer.districts[i].name.clone(),
        value: v,
    };
    let n = values.len().min(NAMED);
    let highest: Vec<Named> = values.iter().take(n).map(named).collect();
    let lowest: Vec<Named> = values.iter().rev().take(n).map(named).collect();
    let numbers = NumberStyle::for_unit(&style.unit);
    // Whole numbers, and values of 100 or more, without decimals; others with one.
    let decimals = usize::from(
        !values
            .iter()
            .all(|(_, v)| v.fract() == 0.0 || v.abs() >= 100.0),
    );
    let show = |xs: &[Named]| -> String {
        list(
            &xs.iter()
                .map(|x| format!("{} ({})", x.name, numbers.format(x.value, decimals)))
                .collect::<Vec<_>>(),
        )
    };
    // Regions: the mean of each region's districts with a value.
    let mut by_region: Vec<(String, f64, usize)> = Vec::new();
    for &(i, v) in &values {
        if let Some(r) = region_of(&layer.districts[i]) {
            match by_region.iter_mut().find(|(name, _, _)| name == r) {
                Some(e) => {
                    e.1 += v;
                    e.2 += 1;
                }
                None => by_region.push((r.to_string(), v, 1)),
            }
        }
    }
    let mut means: Vec<Named> = by_region
        .into_iter()
        .map(|(r, sum, k)| Named {
            code: r.clone(),
            name: r,
            value: sum / k as f64,
        })
        .collect();
    means.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then_with(|| a.name.cmp(&b.name))
    });
    let regions = (means.len() >= 2).then(|| (means[0].clone(), means[means.len() - 1].clone()));
    let mut text = format!("{what}. ");
    if values.is_empty() {
        text.push_str("No area shown has a value.");
    } else {
        text.push_str(&format!(
            "Values are highest in {} and lowest in {}.",
            show(&highest),
            show(&lowest)
        ));
        if let Some((hi, lo)) = &regions {
            text.push_str(&format!(
                " By region, the average is highest in {} ({}) and lowest in {} ({}).",
                place(&hi.name),
                numbers.format(hi.value, decimals),
                place(&lo.name),
                numbers.format(lo.value, decimals)
            ));
        }
    }
    let without = drawn_n - values.len();
    if without > 0 {
        text.push_str(&format!(" {without} of {drawn_n} areas have no value."));
    }
    Description {
        text,
        highest,
        lowest,
        regions,
        with_value: values.len(),
        without_value: without,
    }
}

/// The nations of the districts with a value in `style`, as a description's scope: "England",
/// "England and Wales", "Great Britain", "the UK" (for maps of every district, such as tiles).
pub fn nations_scope(layer: &Layer, style: &ResolvedStyle) -> String {
    let mut has = [false; 4];
    for (d, f) in layer.districts.iter().zip(&style.fills) {
        if matches!(f, choropleth::render::Fill::Solid(_)) {
            match d.code.as_bytes().first() {
                Some(b'E') => has[0] = true,
                Some(b'W') => has[1] = true,
                Some(b'S') => has[2] = true,
                Some(b'N') => has[3] = true,
                _ => {}
            }
        }
    }
    match has {
        [true, false, false, false] => "England",
        [false, true, false, false] => "Wales",
        [true, true, false, false] => "England and Wales",
        [true, true, true, false] => "Great Britain",
        [true, true, true, true] => "the UK",
        _ => "the areas with data",
    }
    .to_string()
}
