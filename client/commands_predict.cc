// `q8c predict`: builds a TF Serving PredictRequest or a KServe
// ModelInferRequest from .npy / JSON inputs and prints the outputs as JSON.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/call_args.h"
#include "client/commands.h"
#include "client/host_tensor.h"
#include "client/json.h"
#include "client/json_tensor.h"
#include "client/npy.h"
#include "client/predict_request.h"
#include "client/rpc.h"
#include "client/tensor_codec.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace q8::client {
namespace {

struct PredictOptions {
  ModelCallArgs call;
  std::string signature;
  std::string api;
  std::vector<std::string> output_filter;
  std::string output_dir;
};

// Splits "NAME=VALUE"; both parts must be non-empty. `form` is the expected
// spelling for the message, e.g. "NAME=FILE.npy".
absl::StatusOr<std::pair<std::string, std::string>> SplitAssignment(absl::string_view flag,
                                                                    absl::string_view form,
                                                                    const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " expects ", form, ", got '", arg, "'"));
  }
  return std::make_pair(arg.substr(0, eq), arg.substr(eq + 1));
}

// --json-input is inline JSON if it starts with '{', else a file path.
absl::StatusOr<std::string> ReadJsonArg(const std::string& arg) {
  absl::string_view stripped = absl::StripLeadingAsciiWhitespace(arg);
  if (!stripped.empty() && stripped.front() == '{') return arg;
  std::ifstream in(arg, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("--json-input: cannot open '", arg, "' (inline JSON must start with '{')"));
  }
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

// Collects every input from --input NAME=FILE.npy and --json-input, applying
// --dtype NAME=TYPE. Any problem here is the user's input: exit code 2.
absl::StatusOr<NamedTensors> LoadInputs(const Args& args) {
  std::map<std::string, std::string> dtypes;
  for (const std::string& a : args.GetAll("dtype")) {
    auto kv = SplitAssignment("dtype", "NAME=TYPE", a);
    if (!kv.ok()) return kv.status();
    if (!DTypeSize(kv->second)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dtype ", a, ": unknown dtype (known: ", KnownDTypes(), ")"));
    }
    dtypes[kv->first] = kv->second;
  }

  NamedTensors inputs;
  for (const std::string& a : args.GetAll("input")) {
    auto kv = SplitAssignment("input", "NAME=FILE.npy", a);
    if (!kv.ok()) return kv.status();
    absl::StatusOr<HostTensor> t = ReadNpyFile(kv->second);
    if (!t.ok()) return t.status();
    auto it = dtypes.find(kv->first);
    if (it != dtypes.end() && it->second != t->dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dtype ", kv->first, "=", it->second, " conflicts with ", kv->second,
                       ", which holds ", t->dtype, " (convert the file instead)"));
    }
    inputs.emplace_back(kv->first, *std::move(t));
  }
  if (args.Has("json-input")) {
    absl::StatusOr<std::string> text = ReadJsonArg(args.Get("json-input"));
    if (!text.ok()) return text.status();
    absl::StatusOr<NamedTensors> json = JsonToTensors(*text, dtypes);
    if (!json.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--json-input: ", json.status().message()));
    }
    for (auto& entry : *json) inputs.push_back(std::move(entry));
  }
  if (inputs.empty()) {
    return absl::InvalidArgumentError("no inputs: give --input NAME=FILE.npy and/or --json-input");
  }
  std::vector<std::string> names;
  for (const auto& [name, t] : inputs) {
    if (std::count(names.begin(), names.end(), name)) {
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "' is given twice"));
    }
    names.push_back(name);
  }
  for (const auto& [name, dtype] : dtypes) {
    if (!std::count(names.begin(), names.end(), name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dtype names '", name, "', which is not an input"));
    }
  }
  return inputs;
}

absl::StatusOr<tensorflow::serving::PredictRequest> BuildPredictRequest(
    const ModelCallArgs& call, const std::string& signature, const NamedTensors& inputs,
    const std::vector<std::string>& output_filter) {
  tensorflow::serving::PredictRequest req;
  req.mutable_model_spec()->set_name(call.model);
  if (call.version > 0) req.mutable_model_spec()->mutable_version()->set_value(call.version);
  if (!signature.empty()) req.mutable_model_spec()->set_signature_name(signature);
  for (const auto& [name, t] : inputs) {
    absl::StatusOr<tensorflow::TensorProto> p = ToTensorProto(t);
    if (!p.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", p.status().message()));
    (*req.mutable_inputs())[name] = *std::move(p);
  }
  for (const std::string& f : output_filter) req.add_output_filter(f);
  return req;
}

absl::StatusOr<inference::ModelInferRequest> BuildModelInferRequest(
    const ModelCallArgs& call, const NamedTensors& inputs,
    const std::vector<std::string>& output_filter) {
  inference::ModelInferRequest req;
  req.set_model_name(call.model);
  if (call.version > 0) req.set_model_version(absl::StrCat(call.version));
  for (const auto& [name, t] : inputs) {
    absl::StatusOr<std::string> raw = ToKServeInput(name, t, *req.add_inputs());
    if (!raw.ok()) return raw.status();
    req.add_raw_input_contents(*std::move(raw));
  }
  for (const std::string& f : output_filter) req.add_outputs()->set_name(f);
  return req;
}

namespace {

// Output names become file names: keep them inside the directory.
std::string FileNameFor(std::string name) {
  for (char& c : name) {
    if (c == '/' || c == '\\' || c == ':' || c == '\0') c = '_';
  }
  if (name.empty() || name == "." || name == "..") name = "_" + name;
  return name + ".npy";
}

// Prints {"model":..,"version":..,"outputs":{..}} and writes .npy files.
int EmitOutputs(const PredictOptions& o, absl::string_view model,
                const std::optional<int64_t>& version, const std::string& version_text,
                const std::vector<std::pair<std::string, HostTensor>>& outputs) {
  if (!o.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    if (ec) {
      std::cerr << "q8c: cannot create --output-dir " << o.output_dir << ": " << ec.message()
                << "\n";
      return kExitFailure;
    }
    for (const auto& [name, t] : outputs) {
      const std::string path = (std::filesystem::path(o.output_dir) / FileNameFor(name)).string();
      absl::Status st = WriteNpyFile(path, t);
      if (!st.ok()) {
        std::cerr << "q8c: " << st.message() << "\n";
        return kExitFailure;
      }
    }
  }
  JsonWriter w;
  w.BeginObject().Key("model").String(model).Key("version");
  if (version) {
    w.Int(*version);
  } else if (!version_text.empty()) {
    w.String(version_text);
  } else {
    w.Null();
  }
  w.Key("outputs").BeginObject();
  for (const auto& [name, t] : outputs) {
    w.Key(name);
    absl::Status st = WriteTensorJson(t, w);
    if (!st.ok()) {
      std::cerr << "q8c: bad output " << name << ": " << st.message() << "\n";
      return kExitFailure;
    }
  }
  w.EndObject().EndObject();
  std::cout << w.str() << "\n";
  return kExitOk;
}

int PredictTfs(const PredictOptions& o, const NamedTensors& inputs) {
  absl::StatusOr<tensorflow::serving::PredictRequest> req =
      BuildPredictRequest(o.call, o.signature, inputs, o.output_filter);
  if (!req.ok()) return UsageError(req.status().message());

  auto stub = tensorflow::serving::PredictionService::NewStub(MakeChannel(o.call.target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, o.call.timeout_ms);
  tensorflow::serving::PredictResponse resp;
  grpc::Status status = stub->Predict(&ctx, *req, &resp);
  if (!status.ok()) return ReportRpcError("Predict", status);

  // Proto maps have no order; sort so output is stable across runs.
  std::vector<std::pair<std::string, HostTensor>> outputs;
  for (const auto& [name, proto] : resp.outputs()) {
    absl::StatusOr<HostTensor> t = FromTensorProto(proto, name);
    if (!t.ok()) {
      std::cerr << "q8c: cannot decode output: " << t.status().message() << "\n";
      return kExitFailure;
    }
    outputs.emplace_back(name, *std::move(t));
  }
  std::sort(outputs.begin(), outputs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::optional<int64_t> version;
  if (resp.model_spec().has_version()) version = resp.model_spec().version().value();
  return EmitOutputs(o, resp.model_spec().name().empty() ? o.call.model : resp.model_spec().name(),
                     version, "", outputs);
}

int PredictKServe(const PredictOptions& o, const NamedTensors& inputs) {
  if (!o.signature.empty()) {
    return UsageError("--signature is not part of the KServe v2 API; use --api=tfs");
  }
  absl::StatusOr<inference::ModelInferRequest> req =
      BuildModelInferRequest(o.call, inputs, o.output_filter);
  if (!req.ok()) return UsageError(req.status().message());

  auto stub = inference::GRPCInferenceService::NewStub(MakeChannel(o.call.target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, o.call.timeout_ms);
  inference::ModelInferResponse resp;
  grpc::Status status = stub->ModelInfer(&ctx, *req, &resp);
  if (!status.ok()) return ReportRpcError("ModelInfer", status);

  const bool raw = resp.raw_output_contents_size() > 0;
  if (raw && resp.raw_output_contents_size() != resp.outputs_size()) {
    std::cerr << "q8c: bad response: " << resp.outputs_size() << " outputs but "
              << resp.raw_output_contents_size() << " raw_output_contents\n";
    return kExitFailure;
  }
  std::vector<std::pair<std::string, HostTensor>> outputs;
  for (int i = 0; i < resp.outputs_size(); ++i) {
    absl::StatusOr<HostTensor> t =
        FromKServeOutput(resp.outputs(i), raw ? &resp.raw_output_contents(i) : nullptr);
    if (!t.ok()) {
      std::cerr << "q8c: cannot decode output: " << t.status().message() << "\n";
      return kExitFailure;
    }
    outputs.emplace_back(resp.outputs(i).name(), *std::move(t));
  }
  // KServe versions are strings; print a number when it is one so the JSON
  // looks the same for both APIs.
  std::optional<int64_t> version;
  int64_t v;
  if (absl::SimpleAtoi(resp.model_version(), &v)) version = v;
  return EmitOutputs(o, resp.model_name().empty() ? o.call.model : resp.model_name(), version,
                     resp.model_version(), outputs);
}

}  // namespace

int RunPredict(const Args& args) {
  PredictOptions o;
  absl::StatusOr<ModelCallArgs> call = ParseModelCallArgs(args, kModelCallTimeoutMs);
  if (!call.ok()) return UsageError(call.status().message());
  o.call = *std::move(call);
  o.signature = args.Get("signature");
  o.api = args.Get("api", "tfs");
  if (o.api != "tfs" && o.api != "kserve") {
    return UsageError(absl::StrCat("--api must be tfs or kserve, got '", o.api, "'"));
  }
  if (args.Has("output-filter")) {
    o.output_filter = absl::StrSplit(args.Get("output-filter"), ',', absl::SkipEmpty());
  }
  o.output_dir = args.Get("output-dir");

  absl::StatusOr<NamedTensors> inputs = LoadInputs(args);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  return o.api == "tfs" ? PredictTfs(o, *inputs) : PredictKServe(o, *inputs);
}

}  // namespace q8::client
