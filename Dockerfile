# q8serve container: multi-stage on Debian 12.
#   docker build -t q8serve .                                      # JOBS=2 by default
#   docker run --rm -p 8500:8500 -p 8502:8502 q8serve              # default model repository
#   docker run --rm -p 8500:8500 -v "$PWD/models:/models:ro" q8serve   # your own
#   docker run --rm --network host -e GRPC_PORT=18500 -e METRICS_PORT=18502 q8serve --host=127.0.0.1
# Extra arguments after the image name are passed to q8serve (e.g. --threads=4).
# Base image: no registry pull is needed if a local debian:bookworm exists
# (deploy/test-container.sh makes one with debootstrap + docker import).

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev \
      protobuf-compiler libabsl-dev libre2-dev libdnnl-dev ocl-icd-opencl-dev libspdlog-dev \
      prometheus-cpp-dev libcivetweb-dev libonnx-dev libgtest-dev libgmock-dev libbenchmark-dev \
      flatbuffers-compiler flatbuffers-compiler-dev libflatbuffers-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY protos protos
COPY engine engine
COPY server server
COPY client client
COPY tests tests
COPY deploy/models deploy/models
COPY deploy/examples deploy/examples
# Build machines are shared: 2 jobs unless told otherwise (--build-arg JOBS=8).
ARG JOBS=2
# Tests in the build stage. The full suite needs ../shared (ONNX conformance data and bench
# models, ~50 MB nobody on the team wrote), which is outside the build context and is not
# copied in: CI already runs every test on the host (deploy/setup.sh test) right before this
# build. Here we run the tests that need nothing but the repository, and that exercise what
# the image ships: the client's unit tests, the server's codec / predict-core / batcher /
# operations tests, and the end-to-end tests that start this very q8serve binary on
# deploy/models and call it over gRPC: both APIs, health, metrics, batching, reloads and
# version swaps under load, 64 concurrent clients, q8c bench, limits and logs, SIGTERM
# drain → exit 0.
# --build-arg Q8_TESTS=OFF skips them (faster local rebuilds).
ARG Q8_TESTS=ON
RUN set -e; \
    tests=""; \
    if [ "$Q8_TESTS" = ON ]; then \
      tests="q8_client_npy_test q8_client_json_tensor_test q8_client_text_table_test \
             q8_client_tensor_text_test q8_client_graph_listing_test \
             q8_client_signature_listing_test q8_client_q8serve_json_test q8_client_args_test \
             q8_client_repository_listing_test q8_client_arrival_schedule_test \
             server_codec_test server_core_test server_batcher_test server_operations_test \
             server_e2e_test reload_e2e_test batching_e2e_test shutdown_e2e_test \
             operations_e2e_test load_e2e_test"; \
    fi; \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQ8_BUILD_TESTS="$Q8_TESTS"; \
    cmake --build build -j"$JOBS" --target q8serve q8c $tests; \
    if [ "$Q8_TESTS" = ON ]; then \
      ctest --test-dir build --output-on-failure -j"$JOBS" \
            -R '^(q8_client_.*|server_(codec|core|batcher|operations|e2e)_test|(reload|batching|shutdown|operations|load)_e2e_test)$'; \
    fi; \
    strip build/server/q8serve build/client/q8c

FROM debian:bookworm
# Runtime libraries only (the -dev packages stay in the build stage). ldd of both binaries
# resolves to these (plus libc/libstdc++ already in the base).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libdnnl2 libspdlog1.10 libprometheus-cpp-core1.0 \
      libcivetweb1 libonnx1 libgomp1 libabsl20220623 libre2-9 ocl-icd-libopencl1 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin q8serve
COPY --from=build /src/build/server/q8serve /src/build/client/q8c /usr/local/bin/
# The default repository belongs to root and is read-only for the server user.
COPY deploy/models /models
USER 10001:10001
ENV GRPC_PORT=8500 METRICS_PORT=8502
EXPOSE 8500 8502
VOLUME ["/models"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD q8c health --target="127.0.0.1:${GRPC_PORT}" --timeout-ms=2500 || exit 1
# exec: q8serve is PID 1 and receives SIGTERM itself (it blocks the signal and sigwaits, so
# PID 1's default-ignore rule does not apply): health → NOT_SERVING, drain, exit 0.
ENTRYPOINT ["/bin/sh", "-c", "exec q8serve --model-repository=/models --grpc-port=\"$GRPC_PORT\" --metrics-port=\"$METRICS_PORT\" \"$@\"", "q8serve"]
