# The operator is one static binary; scratch keeps the image free of anything to pull.
FROM scratch
COPY bin/stowage-operator /stowage-operator
USER 65532:65532
ENTRYPOINT ["/stowage-operator"]
