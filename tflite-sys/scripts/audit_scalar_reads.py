#!/usr/bin/env python3
"""Lists TFLite kernels that read one element of an operand a model supplies (an axis, a count, a
condition: `GetTensorData<T>(t)[0]`, `*GetTensorData<T>(t)`, `t->data.i32[0]`, `*t->data.i32`)
without checking, somewhere in the same file, both that the tensor holds an element and that its
type is the one read. A model can point such an operand at any tensor: an empty one has no data
(a null read), a narrower type is read past its end.

Run it on kernels with every patch of tensorflow/series applied (the unpacked sources of a
native build):
    python3 tflite-sys/scripts/audit_scalar_reads.py DIR/tensorflow/lite/kernels
A heuristic over the text, not a parser: it matches checks by the tensor's last name component
anywhere in the file (a check in Prepare covers a read in Eval: TFLite prepares a node again
whenever its inputs' shapes change), so each hit needs a look. Writes to outputs are left out.
On 2.14.1 with every patch (0038 fixed SPLIT, SPLIT_V, REVERSE_V2, ONE_HOT and
NON_MAX_SUPPRESSION_V5) the 10 hits left are false: checked under another name in Prepare
(`cumsum`, `reverse`: `axis`; `random_ops`: `num_samples`), checked field by field
(`unsorted_segment`: shape [1] or []), a write to an output TFLite sized (`hashtable`), or not
in the builtin op resolver (`random_uniform_custom`, the `variants/list_kernels`).
"""
import glob
import os
import re
import sys

# The tensor expression read: `x`, `&x`, `op_context.x`, `op_context->x`.
EXPR = r"&?[\w.>-]+"
READS = [
    re.compile(r"GetTensorData<[\w:]+>\((%s)\)\[0\]" % EXPR),
    re.compile(r"\*\s*GetTensorData<[\w:]+>\((%s)\)" % EXPR),
    re.compile(r"(%s)->data\.\w+\[0\]" % EXPR),
    re.compile(r"\*\s*(%s)->data\.\w+\b(?!\[)" % EXPR),
]
WRITE = re.compile(r"^\s*(?:GetTensorData<[\w:]+>\([^)]*\)\[0\]|\*\s*GetTensorData)[^=]*=[^=]")


def name(expr):
    """The last component of a tensor expression: `op_context.axis` -> `axis`."""
    return re.split(r"\.|->|&", expr)[-1]


def checked(text, var):
    """Whether the file checks `var`'s element count and its type."""
    v = r"(?:[\w.>-]*[.>])?&?%s\b" % re.escape(var)
    count = re.search(
        r"NumElements\(\s*%s\s*\)|NumDimensions\(\s*%s\s*\)\s*,\s*0|"
        r"SizeOfDimension\(\s*%s\s*,\s*0\s*\)\s*,\s*1" % (v, v, v), text)
    typed = re.search(r"%s(?:->|\.)type\b" % v, text)
    return bool(count), bool(typed)


def audit(path):
    text = open(path).read()
    hits = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if WRITE.search(line) or "output" in line.split("=")[0]:
            continue
        for pattern in READS:
            for m in pattern.finditer(line):
                var = name(m.group(1))
                if "output" in var:
                    continue
                count, typed = checked(text, var)
                if not (count and typed):
                    missing = [w for w, ok in (("count", count), ("type", typed)) if not ok]
                    hits.append((lineno, var, " and ".join(missing)))
    return sorted(set(hits))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    total = 0
    for path in sorted(glob.glob(os.path.join(root, "**", "*.cc"), recursive=True)):
        if path.endswith("_test.cc"):
            continue
        for lineno, var, missing in audit(path):
            total += 1
            print("%s:%d: `%s` read as a scalar, no check of its %s"
                  % (os.path.relpath(path, root), lineno, var, missing))
    print("%d reads to look at" % total)


if __name__ == "__main__":
    main()
