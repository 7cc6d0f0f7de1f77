// The human-readable form of a q8serve.v1 GetSignatureResponse (`q8c
// signature` without --json): per input and output, the logical name, the
// engine tensor it is bound to, what the client sends or receives, the
// conversion q8serve applies at the boundary, and why the binding was made.
#ifndef Q8SERVE_CLIENT_SIGNATURE_LISTING_H_
#define Q8SERVE_CLIENT_SIGNATURE_LISTING_H_

#include <string>

#include "q8serve/v1/q8serve.pb.h"

namespace q8::client {

// The CONVERSION cell of one binding. Data flows client → tensor for an
// input and tensor → client for an output, so the arrow follows that
// direction whatever the conversion is called:
//   "quantize float32→uint8 s=0.003922 z=0"   conversion set
//   "none, int8 s=0.5 z=-3"                   quantized, sent as is
//   "none"                                    not quantized
std::string FormatConversion(const q8serve::v1::TensorBinding& binding, bool is_input);

// A header line, then INPUTS and OUTPUTS tables; each binding's explanation
// sits indented on its own line under its row. See signature_listing_test.cc
// for a rendered example.
std::string RenderSignature(const q8serve::v1::GetSignatureResponse& signature);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_SIGNATURE_LISTING_H_
