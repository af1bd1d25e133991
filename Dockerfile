# Multi-stage build of the hotlineqc binary.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/hotlineqc ./cmd/hotlineqc

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hotlineqc /usr/local/bin/hotlineqc
COPY deploy/hotlineqc.example.yaml /etc/hotlineqc/hotlineqc.yaml
USER nonroot
ENTRYPOINT ["/usr/local/bin/hotlineqc"]
