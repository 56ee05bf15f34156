# A command that needs a userland: etcd (a writable /tmp) and kube-proxy (iptables).
ARG BASE
FROM ${BASE}
ARG BIN
ARG PACKAGES=""
RUN if [ -n "$PACKAGES" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES && rm -rf /var/lib/apt/lists/*; fi
COPY ${BIN} /usr/local/bin/${BIN}
