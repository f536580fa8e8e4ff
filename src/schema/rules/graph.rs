//! The rules on the graph of subgraphs that IF, WHILE and CALL_ONCE run.

use super::Verdict;

/// IF and WHILE copy into the inputs of the subgraphs they run (CALL_ONCE's has none): no
/// such input may be a constant, or running it would write into the model (see
/// [`outputs_are_writable`](super::operators::outputs_are_writable)).
pub(crate) fn callees_take_no_constant_inputs(
    calls: &[Vec<usize>],
    constant_inputs: &[Option<usize>],
) -> Verdict {
    for (s, callees) in calls.iter().enumerate() {
        for &c in callees {
            if let Some(t) = constant_inputs.get(c).copied().flatten() {
                return Err(format!(
                    "subgraph {c}, which subgraph {s} runs, has a constant as its input \
                     (tensor {t}): running it would write into the model"
                ));
            }
        }
    }
    Ok(())
}

/// A subgraph that runs itself, directly or through others, recurses until the stack
/// overflows (TFLite checks nothing): the calls must form no cycle.
pub(crate) fn no_subgraph_runs_itself(calls: &[Vec<usize>]) -> Verdict {
    match cycle(calls) {
        Some(s) => Err(format!(
            "subgraph {s} runs itself (through IF, WHILE or CALL_ONCE operators)"
        )),
        None => Ok(()),
    }
}

/// A subgraph on a cycle of `calls` (subgraph -> subgraphs it runs), if there is one.
fn cycle(calls: &[Vec<usize>]) -> Option<usize> {
    // 0: not seen, 1: on the current path, 2: done. Iterative depth-first search.
    let mut state = vec![0u8; calls.len()];
    for root in 0..calls.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some((node, next)) = stack.pop() {
            if let Some(&callee) = calls[node].get(next) {
                stack.push((node, next + 1));
                match state[callee] {
                    1 => return Some(callee),
                    0 => {
                        state[callee] = 1;
                        stack.push((callee, 0));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::cycle;

    #[test]
    fn cycles_of_subgraph_calls_are_found() {
        assert_eq!(cycle(&[vec![1, 2], vec![2], vec![]]), None);
        assert_eq!(cycle(&[vec![0]]), Some(0));
        assert_eq!(cycle(&[vec![1], vec![2], vec![1]]), Some(1));
        assert_eq!(cycle(&[vec![], vec![2, 2], vec![]]), None);
    }
}
