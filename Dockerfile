# Images are named in full (registry/namespace/name), so podman and buildah
# resolve them without a short-name policy. No "# syntax=" line: BuildKit
# would fetch that frontend image on every build, and this file needs only
# the built-in one, so a rebuild works offline once the bases are pulled.

# Build a static binary; migrations and GraphiQL are embedded in it.
FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

# Run it on a minimal image as an unprivileged user. There is no embedded
# PostgreSQL here: set DATABASE_URL. There is no shell or curl either: the
# binary probes itself (`server healthcheck` asks /readyz).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
USER nonroot:nonroot
# HOST=0.0.0.0: a container is reached through its network interface.
ENV APP_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/server", "healthcheck"]
ENTRYPOINT ["/server"]
CMD ["serve"]
