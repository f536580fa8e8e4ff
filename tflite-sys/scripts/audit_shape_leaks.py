#!/usr/bin/env python3
"""Lists TFLite kernels that can leak an output shape: a TfLiteIntArray made in Prepare (created,
copied, or filled by CalculateShapeForBroadcast), then an early return (TF_LITE_ENSURE*, a
`return kTfLiteError`) before anything takes it (ResizeTensor, a free, an owning unique_ptr).

Run it on kernels with every patch of tensorflow/series applied (the unpacked sources of a
native build):
    python3 tflite-sys/scripts/audit_shape_leaks.py DIR/tensorflow/lite/kernels
A heuristic over the text, not a parser: each hit needs a look. Checks a loaded model cannot
fail (GetOutputSafe/GetTemporarySafe on indices TFLite or our graph check validated) are listed
with `(validated index)`; patches 0008, 0020 and 0034 fixed the rest it found. On 2.14.1 with
every patch the 4 other hits are false: a null check of the shape itself
(embedding_lookup_sparse), a `break` the text scan reads past (select), and a lambda that frees
the shape on error (topk_v2).
"""
import glob
import os
import re
import sys

MADE = re.compile(
    r"TfLiteIntArray\s*\*\s*(\w+)\s*=\s*(?:TfLiteIntArrayCreate|TfLiteIntArrayCopy)\(")
BROADCAST = re.compile(r"CalculateShapeForBroadcast\([^;]*&(\w+)\)")
EARLY = re.compile(r"TF_LITE_ENSURE|return kTfLiteError|return status")
VALIDATED = re.compile(r"GetOutputSafe|GetTemporarySafe")


def taken(var, stmt):
    """Whether the statement hands `var` over or frees it."""
    v = r"\b%s\b" % var
    return (re.search(r"Resize\w*\([^;]*" + v, stmt)
            or re.search(r"TfLiteIntArrayFree\(\s*%s\s*\)" % var, stmt)
            or re.search(r"return\s+" + v, stmt)
            or re.search(r"=\s*%s\s*$" % var, stmt)
            or ("unique_ptr" in stmt and re.search(v, stmt)))


def audit(path):
    text = open(path).read()
    hits = []
    for pattern in (MADE, BROADCAST):
        for m in pattern.finditer(text):
            var = m.group(1)
            rest = text[m.end():].split(";", 1)[1] if pattern is BROADCAST else text[m.end():]
            for stmt in rest.split(";")[:60]:
                stmt = " ".join(stmt.split())
                if taken(var, stmt):
                    break
                if EARLY.search(stmt):
                    line = text[:m.start()].count("\n") + 1
                    note = " (validated index)" if VALIDATED.search(stmt) else ""
                    hits.append("%s:%d %s%s: %s" % (os.path.basename(path), line, var, note,
                                                     stmt[:100]))
                    break
    return hits


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    hits = []
    for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.cc"))):
        if not f.endswith("_test.cc"):
            hits += audit(f)
    print("\n".join(hits))
    print("%d hits, %d not on a validated index" % (len(hits),
                                                    sum("(validated" not in h for h in hits)))


if __name__ == "__main__":
    main()
