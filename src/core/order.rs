//! Sets and sorts that share one copy of their code in the wasm. std's stable sort is
//! monomorphized per element type and comparison, about 2 KiB of wasm each, and
//! `collect()` into a `BTreeSet` runs one; six of them were 4 KiB gzip of the Worker
//! bundle (issue 14).

use std::collections::BTreeSet;

/// A set built by inserting (no sort of a buffer first, as `collect()` does).
pub fn set<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    let mut set = BTreeSet::new();
    set.extend(items);
    set
}

/// Sorts `items` stably by `less`, through [`sorted_order`].
pub fn sort_by<T>(items: &mut Vec<T>, less: impl Fn(&T, &T) -> bool) {
    // Often sorted already (Node lists a directory sorted; bundlers' globs are): one
    // pass instead of n log n comparisons and a shuffle.
    if items.windows(2).all(|w| !less(&w[1], &w[0])) {
        return;
    }
    let order = sorted_order(items.len(), &|a, b| less(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.iter().filter_map(|&i| slots[i].take()));
}

/// The permutation that sorts `0..n` stably by `less`: a bottom-up merge sort, the one
/// copy every caller shares.
pub fn sorted_order(n: usize, less: &dyn Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut merged = order.clone();
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            for slot in &mut merged[start..end] {
                // The right run's item goes first only when strictly less: stable.
                if j < end && (i == mid || less(order[j], order[i])) {
                    *slot = order[j];
                    j += 1;
                } else {
                    *slot = order[i];
                    i += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_by_is_stable_and_sorted() {
        for n in 0..40usize {
            let mut items: Vec<(usize, usize)> = (0..n).map(|i| ((i * 7 + 3) % 5, i)).collect();
            let mut expected = items.clone();
            expected.sort_by_key(|p| p.0);
            sort_by(&mut items, |a, b| a.0 < b.0);
            assert_eq!(items, expected);
        }
    }

    #[test]
    fn set_dedups_and_orders() {
        assert_eq!(set([3, 1, 3, 2]).into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
