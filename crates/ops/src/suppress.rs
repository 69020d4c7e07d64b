//! Small counts of persons are never shown (统计披露控制). A figure that counts what persons
//! did is published as lines of cells with their total — the hours of a day with the day's
//! total, the districts of a city with the city's total. A cell below the threshold `k` is
//! shown as "< k" (primary suppression); and since the total is shown, one hidden cell in a
//! line would be the total minus the others, so more cells are hidden until the hidden cells of
//! the line are at least two and sum to at least `k` (complementary suppression): then no
//! hidden cell can be worked out, nor narrowed below `k` by subtraction.
//!
//! A total below `k` is hidden too, wherever it appears. A total of `k` or more is never hidden
//! to protect a line: the same number is a cell of the line above (a district's total is the
//! district's cell in the city's line), and hiding it in one place would not hide it. It never
//! needs to be: a total of at least `k` always leaves enough cells to complete a line.

/// A published number: shown, or hidden as "< k".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Value(i64),
    /// Below the threshold, or hidden so that another hidden cell cannot be worked out.
    Hidden,
}

impl Shown {
    pub fn value(self) -> Option<i64> {
        match self {
            Shown::Value(v) => Some(v),
            Shown::Hidden => None,
        }
    }
}

/// A line as it may be published: its cells and its total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub cells: Vec<Shown>,
    pub total: Shown,
}

/// Publishes a line of counts of persons with its total, hiding what must be hidden for
/// threshold `k` (at least 1; with `k` 1 nothing is hidden).
pub fn line(cells: &[i64], k: i64) -> Line {
    let k = k.max(1);
    let total: i64 = cells.iter().sum();
    let small = |v: i64| v > 0 && v < k;
    let mut hidden: Vec<bool> = cells.iter().map(|&v| small(v)).collect();
    if total > 0 && total < k {
        // The total is hidden: no cell can be worked out from it.
        return Line {
            cells: cells
                .iter()
                .zip(&hidden)
                .map(|(&v, &h)| if h { Shown::Hidden } else { Shown::Value(v) })
                .collect(),
            total: Shown::Hidden,
        };
    }
    loop {
        let count = hidden.iter().filter(|h| **h).count();
        let sum: i64 = cells
            .iter()
            .zip(&hidden)
            .filter(|(_, h)| **h)
            .map(|(v, _)| *v)
            .sum();
        if count == 0 || (count >= 2 && sum >= k) {
            break;
        }
        // The smallest cell not yet hidden that adds to the hidden: a zero adds nothing.
        let next = cells
            .iter()
            .enumerate()
            .filter(|(i, v)| !hidden[*i] && **v > 0)
            .min_by_key(|(i, v)| (**v, *i))
            .map(|(i, _)| i);
        match next {
            Some(i) => hidden[i] = true,
            // Cannot happen with a total of at least k (see the module's note); were it to,
            // the whole line is hidden rather than one cell left open.
            None => {
                return Line {
                    cells: cells
                        .iter()
                        .map(|&v| {
                            if v == 0 {
                                Shown::Value(0)
                            } else {
                                Shown::Hidden
                            }
                        })
                        .collect(),
                    total: Shown::Hidden,
                };
            }
        }
    }
    Line {
        cells: cells
            .iter()
            .zip(&hidden)
            .map(|(&v, &h)| if h { Shown::Hidden } else { Shown::Value(v) })
            .collect(),
        total: Shown::Value(total),
    }
}

/// Publishes counts of persons that are not parts of a published total — a level's hours,
/// each how many were open then — hiding each one below `k` (primary suppression alone: no
/// total is shown to work a hidden one out from).
pub fn each(cells: &[i64], k: i64) -> Vec<Shown> {
    let k = k.max(1);
    cells
        .iter()
        .map(|&v| {
            if v > 0 && v < k {
                Shown::Hidden
            } else {
                Shown::Value(v)
            }
        })
        .collect()
}

/// Publishes a line of counts that are not about persons (requests, exchanges): all shown.
pub fn open_line(cells: &[i64]) -> Line {
    Line {
        cells: cells.iter().map(|&v| Shown::Value(v)).collect(),
        total: Shown::Value(cells.iter().sum()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(line: &Line) -> Vec<Option<i64>> {
        line.cells.iter().map(|c| c.value()).collect()
    }

    #[test]
    fn one_small_cell_takes_the_next_smallest_with_it() {
        let shown = line(&[120, 3, 40, 15, 0], 10);
        assert_eq!(
            values(&shown),
            [Some(120), None, Some(40), None, Some(0)],
            "3 alone would be 178 − 175"
        );
        assert_eq!(shown.total, Shown::Value(178));
    }

    #[test]
    fn two_small_cells_that_sum_below_k_take_a_third() {
        let shown = line(&[50, 1, 2, 30], 10);
        assert_eq!(values(&shown), [Some(50), None, None, None]);
    }

    #[test]
    fn a_small_total_is_hidden_and_large_cells_alone_are_shown() {
        let shown = line(&[0, 4, 0], 10);
        assert_eq!(values(&shown), [Some(0), None, Some(0)]);
        assert_eq!(shown.total, Shown::Hidden);
        assert_eq!(line(&[0, 0], 10).total, Shown::Value(0));
        let all = line(&[25, 30], 10);
        assert_eq!(values(&all), [Some(25), Some(30)]);
    }

    #[test]
    fn a_levels_hours_are_hidden_one_by_one() {
        let shown: Vec<Option<i64>> = each(&[12, 3, 0, 10], 10)
            .iter()
            .map(|c| c.value())
            .collect();
        assert_eq!(shown, [Some(12), None, Some(0), Some(10)]);
    }

    #[test]
    fn with_k_one_nothing_is_hidden() {
        assert_eq!(values(&line(&[1, 2, 0], 1)), [Some(1), Some(2), Some(0)]);
    }

    proptest! {
        /// Whatever the counts: no shown cell is below k but zero; with a shown total, the
        /// hidden cells are none, or at least two summing to at least k — so none is the total
        /// minus the shown ones, and their sum says nothing below k.
        #[test]
        fn no_hidden_cell_can_be_worked_out(cells in proptest::collection::vec(0i64..40, 0..30), k in 1i64..15) {
            let shown = line(&cells, k);
            prop_assert_eq!(shown.cells.len(), cells.len());
            for (cell, &v) in shown.cells.iter().zip(&cells) {
                match cell {
                    Shown::Value(x) => {
                        prop_assert_eq!(*x, v);
                        prop_assert!(v == 0 || v >= k);
                    }
                    Shown::Hidden => prop_assert!(v > 0),
                }
            }
            let total: i64 = cells.iter().sum();
            match shown.total {
                Shown::Value(t) => {
                    prop_assert_eq!(t, total);
                    prop_assert!(t == 0 || t >= k);
                    let hidden: Vec<i64> = shown.cells.iter().zip(&cells)
                        .filter(|(c, _)| **c == Shown::Hidden).map(|(_, v)| *v).collect();
                    prop_assert!(hidden.is_empty() || (hidden.len() >= 2 && hidden.iter().sum::<i64>() >= k));
                }
                Shown::Hidden => prop_assert!(total > 0 && total < k),
            }
        }
    }
}
