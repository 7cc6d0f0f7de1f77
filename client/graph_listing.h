// The human-readable form of a q8serve.v1 GetGraphResponse (`q8c graph`
// without --json): a header line, then a TENSORS and a NODES table.
#ifndef Q8SERVE_CLIENT_GRAPH_LISTING_H_
#define Q8SERVE_CLIENT_GRAPH_LISTING_H_

#include <string>

#include "q8serve/v1/q8serve.pb.h"

namespace q8::client {

// For example (see graph_listing_test.cc for the whole listing):
//
//   model digits version 1 (onnx, /m/model.onnx): showing 3 of 23 tensors, 1 of 9 nodes
//
//   TENSORS
//     NAME             DTYPE    SHAPE   QUANT                 PRODUCER
//     input            float32  [?,64]  -                     -               IN
//     input_quantized  uint8    [?,64]  uint8 s=0.003922 z=0  QuantizeLinear
//     fc1_out          ?        ?       -                     -
//
//   NODES
//     OP              NAME         INPUTS → OUTPUTS
//     QuantizeLinear  quant_input  input, input_scale, input_zero_point → input_quantized
//
// "?" is an unknown dtype, shape or dimension; "-" an absent value (an
// omitted node input keeps its place as "-"). The last column marks graph
// inputs (IN) and outputs (OUT).
std::string RenderGraph(const q8serve::v1::GetGraphResponse& graph);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_GRAPH_LISTING_H_
