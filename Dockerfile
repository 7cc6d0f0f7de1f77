# q8serve container: multi-stage on Debian 12.
#   docker build -t q8serve .
#   docker run --rm -p 8500:8500 -p 8502:8502 q8serve                 # default model repository
#   docker run --rm -p 8500:8500 -v $PWD/models:/models q8serve       # your own
# Base images: no registry pull is needed if a local debian:bookworm exists
# (see ../shared/deploy-notes.md: debootstrap + docker import).

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev \
      protobuf-compiler libabsl-dev libre2-dev libdnnl-dev ocl-icd-opencl-dev libspdlog-dev \
      prometheus-cpp-dev libonnx-dev libgtest-dev libgmock-dev libbenchmark-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY protos protos
COPY engine engine
COPY server server
COPY client client
COPY tests tests
COPY deploy deploy
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQ8_BUILD_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target q8serve q8c \
 && strip build/server/q8serve build/client/q8c

FROM debian:bookworm
# Runtime libraries only (the -dev packages stay in the build stage).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libdnnl2 libspdlog1.10 libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 libonnx1 libgomp1 libabsl20220623 libre2-9 ocl-icd-libopencl1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin q8serve
COPY --from=build /src/build/server/q8serve /src/build/client/q8c /usr/local/bin/
COPY --chown=q8serve deploy/models /models
USER q8serve
EXPOSE 8500 8502
VOLUME ["/models"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["q8c", "health", "--target=127.0.0.1:8500"]
ENTRYPOINT ["q8serve", "--model-repository=/models", "--grpc-port=8500", "--metrics-port=8502"]
