# Switchboard: API + worker in one static binary.
#   docker build -t switchboard .
#   docker run --rm switchboard version

# ---- build --------------------------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src

# Dependencies first, so source edits do not re-download modules.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/switchboard ./cmd/switchboard

# ---- run ----------------------------------------------------------------------
# Static binary, no shell; runs as the unprivileged "nonroot" user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchboard /switchboard
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/switchboard"]
CMD ["serve"]
