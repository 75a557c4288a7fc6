"""The class probabilities stay in float32 in every variant, so each row sums to 1.

A model's last node is a Softmax that writes the graph output. Quantized with
the rest, int8 probabilities came in steps of 1/255 (the int8 scale of [0, 1])
and every row summed to 0.99608; in fp16 each probability is rounded to 11
bits, so a row is off by up to about 5e-4 where the fp16 kernels run (a GPU).
So the int8 quantizer is told to leave that Softmax out
(:func:`output_softmax_nodes`), and in the fp16 model the logits are cast to
float32 before it (:func:`softmax_in_float32`): the probabilities are the
float softmax of the variant's own logits, and sum to 1 within float32
rounding.
"""

from __future__ import annotations

from typing import Any

FLOAT32 = 1  # onnx.TensorProto.FLOAT


def output_softmax_nodes(graph: Any) -> list[str]:
    """The names of the Softmax nodes of an ``onnx.GraphProto`` that write a graph output."""
    outputs = {o.name for o in graph.output}
    return [node.name for node in graph.node
            if node.op_type == "Softmax" and outputs.intersection(node.output)]


def softmax_in_float32(model: Any) -> Any:
    """``model`` (an fp16 ``onnx.ModelProto`` with float32 outputs, as onnxruntime's
    converter writes it with ``keep_io_types``) with each ``Softmax -> Cast(float32)``
    that writes a graph output turned into ``Cast(float32) -> Softmax``.

    The converter casts a Softmax's fp16 result to float32 for the output; here the
    fp16 logits are cast instead, and the Softmax runs on float32 and writes the
    output itself. Changed in place and returned.
    """
    graph = model.graph
    made_by = {out: node for node in graph.node for out in node.output}
    readers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    for output in graph.output:
        cast = made_by.get(output.name)
        if cast is None or cast.op_type != "Cast" or \
                not any(a.name == "to" and a.i == FLOAT32 for a in cast.attribute):
            continue
        softmax = made_by.get(cast.input[0])
        if softmax is None or softmax.op_type != "Softmax" or readers[cast.input[0]] != 1:
            continue
        fp16_probs, logits = cast.input[0], softmax.input[0]
        cast.input[0], cast.output[0] = logits, f"{logits}_float32"
        softmax.input[0], softmax.output[0] = f"{logits}_float32", output.name
        nodes = list(graph.node)
        nodes.remove(cast)
        nodes.insert(nodes.index(softmax), cast)  # the cast now runs first
        del graph.node[:]
        graph.node.extend(nodes)
        kept = [info for info in graph.value_info if info.name != fp16_probs]
        del graph.value_info[:]
        graph.value_info.extend(kept)
    return model
