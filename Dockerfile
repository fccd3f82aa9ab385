# syntax=docker/dockerfile:1

# Build a static binary; migrations are embedded in it.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

# Run it on a minimal image as an unprivileged user. There is no embedded
# PostgreSQL here: set DATABASE_URL.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
USER nonroot:nonroot
ENV APP_ENV=production PORT=8080
EXPOSE 8080
ENTRYPOINT ["/server"]
CMD ["serve"]
