#!/usr/bin/python3
"""Lists the op types each ONNX conformance case uses (../shared/testdata/onnx-node).

  /usr/bin/python3 tests/engine/onnx_node_audit.py [--dir DIR] [--ops Add,Relu,...]

Prints one line per case directory: its name, the ONNX opset it imports, and its op types
(domain-qualified as the engine's registry keys them: "com.microsoft.QLinearAdd"), plus
"(graph-input args)" when a node reads a non-data argument (shape, axes, split, ...) from a
graph input rather than an initializer. With --ops, prints only the cases whose ops are
all in that list: the cases onnx_conformance_test.cc must list in kCases or kExcluded.
(The test itself checks the same rule against the engine's kernel registry; this script is
for looking at the material without building anything.) Needs python3-onnx (Debian).
"""
import argparse
import os
import sys

import onnx

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                           "shared", "testdata", "onnx-node")


def op_key(node):
    if node.domain in ("", "ai.onnx"):
        return node.op_type
    return f"{node.domain}.{node.op_type}"


def describe(case_dir):
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                default=0)
    graph_inputs = {i.name for i in model.graph.input} - {t.name for t in model.graph.initializer}
    ops = sorted({op_key(n) for n in model.graph.node})
    # Inputs after the first that come straight from the graph's inputs: shape / axes /
    # split / starts ... arguments the engine must read as values, not just as data.
    arg_inputs = any(name in graph_inputs for n in model.graph.node for name in n.input[1:]
                     if n.op_type in ("Reshape", "Squeeze", "Unsqueeze", "Split", "Expand",
                                      "Tile", "Slice", "ConstantOfShape", "Pad", "Resize"))
    if any(n.op_type == "ConstantOfShape" and n.input[0] in graph_inputs
           for n in model.graph.node):
        arg_inputs = True
    return opset, ops, arg_inputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.normpath(DEFAULT_DIR))
    parser.add_argument("--ops", default="", help="comma-separated supported op keys")
    args = parser.parse_args()
    supported = set(filter(None, args.ops.split(",")))
    names = sorted(d for d in os.listdir(args.dir)
                   if os.path.isfile(os.path.join(args.dir, d, "model.onnx")))
    shown = 0
    for name in names:
        opset, ops, arg_inputs = describe(os.path.join(args.dir, name))
        if supported and not set(ops) <= supported:
            continue
        shown += 1
        note = "  (graph-input args)" if arg_inputs else ""
        print(f"{name}\topset {opset}\t{','.join(ops)}{note}")
    print(f"# {shown} of {len(names)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
